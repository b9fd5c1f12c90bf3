import { runStandalone } from '@datalab/platform';
import { computeService } from './definition.ts';

await runStandalone(computeService, process.env);
