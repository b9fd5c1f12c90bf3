import { runStandalone } from '@datalab/platform';
import { gatewayService } from './definition.ts';

await runStandalone(gatewayService, process.env);
