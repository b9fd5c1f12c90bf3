import type { ServiceName } from '@datalab/contracts';
import type { Logger } from 'pino';
import type { Adapters } from '../adapters/adapters.ts';
import { requireInternalToken } from '../auth/internal-auth.ts';
import type { KeySet } from '../auth/keys.ts';
import type { commonConfigSchema } from '../config/common.config.ts';
import type { ConfigOf, ConfigSchema, Env } from '../config/config.ts';
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
  /** Verifies internal tokens addressed to this service and signs those it sends. */
  internalKeys: KeySet;
  /**
   * The environment `config` was read from: the compute-service hands it to other
   * services' job type factories, which read their own config from it. Unset offline.
   */
  env?: Env;
}

/** What the runtime needs to start a service, standalone or beside the others. */
export interface ServiceDefinition<S extends ConfigSchema = ConfigSchema> {
  name: ServiceName;
  version: string;
  description: string;
  defaultPort: number;
  /** Offset of this service's port from the gateway's in `datalab up`. */
  portOffset: number;
  /** The service runs callers' SQL: it gets `db.queryPool` on the restricted login (QUERY_DATABASE_URL). */
  runsUserSql?: boolean;
  /** The schema that records this service's migrations. */
  schema: string;
  migrationsDir: string;
  configSchema: S;
  // Method syntax on purpose: it lets a definition with its own config type stand in a list of definitions.
  buildApp(deps: ServiceDeps<S>): Promise<App>;
  /**
   * Runs once per start, after migrations and before `buildApp` (e.g. the
   * gateway creates the first admin). Returns lines to show the person starting it.
   */
  prepare?(deps: ServiceDeps<S>): Promise<string[]>;
  /**
   * Moves data the schema migrations cannot (e.g. the data-service's old
   * dataset tables into Parquet versions). Runs after the migrations, both
   * when the service starts and in `datalab migrate`. Returns lines to show.
   */
  migrateData?(deps: MigrateDataDeps<S>): Promise<string[]>;
}

export interface MigrateDataDeps<S extends ConfigSchema> {
  config: ConfigOf<S>;
  common: CommonConfig;
  db: Database;
  logger: Logger;
}

export function defineService<S extends ConfigSchema>(
  definition: ServiceDefinition<S>,
): ServiceDefinition<S> {
  return definition;
}

export interface ServiceServerOptions {
  /** Dependencies beyond PostgreSQL and the shared-state adapters. */
  dependencies?: DependencyCheck[];
  /**
   * `internal` (default): every route but health, metrics, info and OpenAPI needs
   * an internal token for this service. `none`: the caller authenticates (the gateway).
   */
  authentication?: 'internal' | 'none';
  openApiDocument?: ServerOptions['openApiDocument'];
  operationsAccess?: ServerOptions['operationsAccess'];
}

function parseTrustProxy(setting: string): boolean | string[] {
  if (setting === '' || setting === 'false') return false;
  if (setting === 'true') return true;
  return setting.split(',').map((part) => part.trim());
}

/** The platform server with this service's identity, metrics, dependencies and caller check filled in. */
export async function createServiceServer(
  deps: ServiceDeps<ConfigSchema>,
  options: ServiceServerOptions = {},
): Promise<App> {
  const app = await createServer({
    service: deps.name,
    version: deps.version,
    instanceId: deps.instanceId,
    description: deps.description,
    logger: deps.logger,
    metrics: deps.metrics,
    dependencies: [...deps.db.dependencies, ...deps.adapters.dependencies, ...(options.dependencies ?? [])],
    bodyLimit: deps.common.bodyLimitBytes,
    trustProxy: parseTrustProxy(deps.common.trustProxy),
    drainMs: deps.common.shutdownDrainMs,
    ...(options.openApiDocument ? { openApiDocument: options.openApiDocument } : {}),
    ...(options.operationsAccess ? { operationsAccess: options.operationsAccess } : {}),
  });
  if ((options.authentication ?? 'internal') === 'internal')
    requireInternalToken(app, deps.internalKeys, deps.name);
  return app;
}
