export { vizService } from './definition.ts';
