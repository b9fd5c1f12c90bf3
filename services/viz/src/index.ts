export { vizService } from './definition.ts';
export { vizJobTypes } from './jobs/render.job.ts';
