import { runStandalone } from '@datalab/platform';
import { dataService } from './definition.ts';

await runStandalone(dataService, process.env);
