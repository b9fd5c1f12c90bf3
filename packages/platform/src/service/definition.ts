import type { ServiceName } from '@datalab/contracts';
import type { Logger } from 'pino';
import type { Adapters } from '../adapters/adapters.ts';
import type { commonConfigSchema } from '../config/common.config.ts';
import type { ConfigOf, ConfigSchema } from '../config/config.ts';
import type { Database } from '../db/database.ts';
import type { ServiceMetrics } from '../metrics/metrics.ts';
import { createServer, type App, type ServerOptions } from '../server/server.ts';
import type { DependencyCheck } from '../server/health.ts';

export type CommonConfig = ConfigOf<typeof commonConfigSchema>;

/** Everything a service's `buildApp` receives; nothing else reaches it. */
export interface ServiceDeps<S extends ConfigSchema = ConfigSchema> {
  name: ServiceName;
  description: string;
  /** This service's own configuration. */
  config: ConfigOf<S>;
  common: CommonConfig;
  logger: Logger;
  db: Database;
  adapters: Adapters;
  metrics: ServiceMetrics;
  instanceId: string;
  version: string;
}

/** What the runtime needs to start a service, standalone or beside the others. */
export interface ServiceDefinition<S extends ConfigSchema = ConfigSchema> {
  name: ServiceName;
  version: string;
  description: string;
  defaultPort: number;
  /** Offset of this service's port from the gateway's in `datalab up`. */
  portOffset: number;
  /** The schema that records this service's migrations. */
  schema: string;
  migrationsDir: string;
  configSchema: S;
  // Method syntax on purpose: it lets a definition with its own config type stand in a list of definitions.
  buildApp(deps: ServiceDeps<S>): Promise<App>;
}

export function defineService<S extends ConfigSchema>(
  definition: ServiceDefinition<S>,
): ServiceDefinition<S> {
  return definition;
}

export interface ServiceServerOptions {
  /** Dependencies beyond PostgreSQL and the shared-state adapters. */
  dependencies?: DependencyCheck[];
  openApiDocument?: ServerOptions['openApiDocument'];
}

/** The platform server with this service's identity, metrics and dependencies filled in. */
export function createServiceServer(
  deps: ServiceDeps<ConfigSchema>,
  options: ServiceServerOptions = {},
): Promise<App> {
  return createServer({
    service: deps.name,
    version: deps.version,
    instanceId: deps.instanceId,
    description: deps.description,
    logger: deps.logger,
    metrics: deps.metrics,
    dependencies: [...deps.db.dependencies, ...deps.adapters.dependencies, ...(options.dependencies ?? [])],
    bodyLimit: deps.common.bodyLimitBytes,
    ...(options.openApiDocument ? { openApiDocument: options.openApiDocument } : {}),
  });
}
