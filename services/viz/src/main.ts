import { runStandalone } from '@datalab/platform';
import { vizService } from './definition.ts';

await runStandalone(vizService, process.env);
