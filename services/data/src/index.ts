export { dataService } from './definition.ts';
export { dataJobTypes } from './jobs/data-jobs.ts';
