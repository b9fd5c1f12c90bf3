export { dataService } from './definition.ts';
