import { runStandalone } from '@datalab/platform';
import { aiService } from './definition.ts';

await runStandalone(aiService, process.env);
