export { aiService } from './definition.ts';
