import { fileURLToPath } from 'node:url';
import { defineService } from '@datalab/platform';
import pkg from '../package.json' with { type: 'json' };
import { buildApp } from './app.ts';
import { aiConfigSchema } from './config.ts';

export const aiService = defineService({
  name: 'ai-service',
  version: pkg.version,
  description: 'Models: registry, training, ONNX serving with dynamic batching.',
  defaultPort: 8002,
  portOffset: 2,
  schema: 'ai',
  migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
  configSchema: aiConfigSchema,
  buildApp,
});
