export { computeService } from './definition.ts';
