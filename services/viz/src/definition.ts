import { fileURLToPath } from 'node:url';
import { defineService } from '@datalab/platform';
import pkg from '../package.json' with { type: 'json' };
import { buildApp } from './app.ts';
import { vizConfigSchema } from './config.ts';

export const vizService = defineService({
  name: 'viz-service',
  version: pkg.version,
  description: 'Charts and dashboards rendered server-side, with a render cache.',
  defaultPort: 8004,
  portOffset: 4,
  schema: 'viz',
  migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
  configSchema: vizConfigSchema,
  buildApp,
});
