import { fileURLToPath } from 'node:url';
import { defineService } from '@datalab/platform';
import pkg from '../package.json' with { type: 'json' };
import { buildApp } from './app.ts';
import { dataConfigSchema } from './config.ts';
import { migrateData } from './versions/migrate-data.ts';

export const dataService = defineService({
  name: 'data-service',
  version: pkg.version,
  description: 'Datasets: ingestion, validation, storage, queries, profiles and the query cache.',
  defaultPort: 8001,
  portOffset: 1,
  schema: 'data',
  runsUserSql: true,
  migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
  configSchema: dataConfigSchema,
  buildApp,
  migrateData,
});
