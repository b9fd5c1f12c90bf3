import { fileURLToPath } from 'node:url';
import { defineService } from '@datalab/platform';
import pkg from '../package.json' with { type: 'json' };
import { buildApp } from './app.ts';
import { computeConfigSchema } from './config.ts';

export const computeService = defineService({
  name: 'compute-service',
  version: pkg.version,
  description: 'Jobs: durable queue, workers, retries, schedules.',
  defaultPort: 8003,
  portOffset: 3,
  schema: 'compute',
  // Data job types (`sql`, `transform`) run the job owner's SQL on the restricted query login.
  runsUserSql: true,
  migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
  configSchema: computeConfigSchema,
  buildApp,
});
