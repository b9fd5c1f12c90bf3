export { aiService } from './definition.ts';
export { aiJobTypes } from './jobs/ai-job-types.ts';
