import { fileURLToPath } from 'node:url';
import { defineService } from '@datalab/platform';
import pkg from '../package.json' with { type: 'json' };
import { buildApp } from './app.ts';
import { gatewayConfigSchema } from './config.ts';
import { createUsersRepository } from './users/users.repository.ts';
import { createUsersService } from './users/users.service.ts';

export const gatewayService = defineService({
  name: 'api-gateway',
  version: pkg.version,
  description:
    'The one door into DataLab: identity, routing, rate limits, service registry, audit log, web UI.',
  defaultPort: 8000,
  portOffset: 0,
  schema: 'auth',
  migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
  configSchema: gatewayConfigSchema,
  buildApp,
  prepare: async (deps) => {
    const users = createUsersService(
      createUsersRepository(deps.db.pool),
      async () => undefined,
      async () => undefined,
    );
    return users.ensureAdmin(deps.config.adminEmail, deps.config.adminPassword);
  },
});
