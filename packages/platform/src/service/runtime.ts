import { hostname } from 'node:os';
import path from 'node:path';
import { loadSigningKey, type KeySet } from '../auth/keys.ts';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ServiceName } from '@datalab/contracts';
import { createMemoryAdapters, createRedisAdapters, type Adapters } from '../adapters/adapters.ts';
import { commonConfigSchema } from '../config/common.config.ts';
import { ConfigError, loadConfig, type ConfigSchema, type Env } from '../config/config.ts';
import { connectDatabase } from '../db/database.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../db/embedded-postgres.ts';
import { migrate } from '../db/migrate.ts';
import { registerPoolMetrics } from '../db/pool-metrics.ts';
import { createServiceMetrics, registerDiskMetrics } from '../metrics/metrics.ts';
import { startTracing } from '../tracing/tracing.ts';
import { connectRedis, isRedisConfigured } from '../redis/redis.ts';
import type { App } from '../server/server.ts';
import type { CommonConfig, ServiceDefinition } from './definition.ts';

/** What one process shares between the services it runs: database, shared-state adapters, logger. */
export interface Platform {
  common: CommonConfig;
  logger: Logger;
  databaseUrl: string;
  /** The restricted login for user SQL, when there is one. */
  queryDatabaseUrl: string | undefined;
  /** Set in embedded mode. */
  embedded: EmbeddedPostgres | undefined;
  adapters: Adapters;
  /** The key of the internal tokens, shared by every service of the process. */
  internalKeys: KeySet;
  mode: 'embedded' | 'distributed';
  close: () => Promise<void>;
}

/** Where a process generates the internal signing key when none is configured. */
export function generatedInternalKeyFile(dataDir: string): string {
  return path.join(dataDir, 'keys', 'internal-ed25519.pem');
}

export async function startPlatform(common: CommonConfig, logger: Logger): Promise<Platform> {
  const tracing = startTracing({
    endpoint: common.otlpEndpoint,
    serviceName: common.otelServiceName,
    sampleRatio: common.traceSamplePercent / 100,
    logger,
  });
  const embedded = common.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: common.dataDir, port: common.embeddedPostgresPort, logger });
  try {
    const redisOptions = {
      url: common.redisUrl,
      sentinels: common.redisSentinels,
      sentinelName: common.redisSentinelName,
      connectTimeoutMs: common.databaseConnectTimeoutMs,
      logger,
    };
    const adapterOptions = {
      cacheMaxBytes: common.cacheMaxBytes,
      registryTtlMs: common.registryTtlMs,
      redisPrefix: common.redisPrefix,
    };
    const internalKey = await loadSigningKey({
      pem: common.internalKey,
      pemVariable: 'DATALAB_INTERNAL_KEY',
      file: common.internalKeyFile,
      fileVariable: 'DATALAB_INTERNAL_KEY_FILE',
      generatedFile: generatedInternalKeyFile(common.dataDir),
    });
    const adapters = isRedisConfigured(redisOptions)
      ? createRedisAdapters(await connectRedis(redisOptions), adapterOptions)
      : createMemoryAdapters(adapterOptions);
    return {
      common,
      logger,
      databaseUrl: common.databaseUrl ?? embedded!.url,
      queryDatabaseUrl: common.queryDatabaseUrl ?? embedded?.queryUrl,
      embedded,
      adapters,
      internalKeys: { active: internalKey, all: [internalKey] },
      mode: embedded ? 'embedded' : 'distributed',
      close: async () => {
        await adapters.close();
        await embedded?.stop();
        await tracing.shutdown();
      },
    };
  } catch (error) {
    await embedded?.stop();
    await tracing.shutdown();
    throw error;
  }
}

export interface RunningService {
  name: ServiceName;
  url: string;
  app: App;
  /** Lines for the person who started it, shown once (e.g. a generated admin password). */
  notices: string[];
  close: () => Promise<void>;
}

export interface StartServiceOptions {
  /** The environment this service's own config is read from. */
  env: Env;
  port: number;
}

function advertisedUrl(common: CommonConfig, port: number): string {
  if (common.advertiseUrl) return common.advertiseUrl;
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(common.host);
  const host = common.host === '0.0.0.0' || common.host === '::' ? hostname() : common.host;
  return `http://${loopback ? '127.0.0.1' : host}:${port}`;
}

async function listen(app: App, host: string, port: number): Promise<number> {
  try {
    await app.listen({ host, port });
  } catch (error) {
    if ((error as { code?: string }).code === 'EADDRINUSE')
      throw new ConfigError('PORT', `${port} is already in use`);
    throw error;
  }
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : port;
}

/** Connects, migrates, builds, listens and announces one service. */
export async function startService<S extends ConfigSchema>(
  definition: ServiceDefinition<S>,
  platform: Platform,
  options: StartServiceOptions,
): Promise<RunningService> {
  const { common } = platform;
  const config = loadConfig(definition.configSchema, options.env);
  const logger = platform.logger.child({ service: definition.name });
  const instanceId = common.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
  const db = await connectDatabase({
    url: platform.databaseUrl,
    readUrl: common.readDatabaseUrl,
    queryUrl: definition.runsUserSql ? platform.queryDatabaseUrl : undefined,
    poolSize: common.databasePoolSize,
    maxMessageBytes: common.databaseMaxMessageBytes,
    connectTimeoutMs: common.databaseConnectTimeoutMs,
    applicationName: `datalab-${definition.name}`,
    logger,
  });
  let app: App | undefined;
  try {
    await migrate(db.pool, { schema: definition.schema, directory: definition.migrationsDir, logger });
    const moved = (await definition.migrateData?.({ config, common, db, logger })) ?? [];
    const metrics = createServiceMetrics(definition.name);
    registerPoolMetrics(metrics.registry, db);
    registerDiskMetrics(metrics.registry, common.dataDir);
    const deps = {
      name: definition.name,
      description: definition.description,
      config,
      common,
      logger,
      db,
      adapters: platform.adapters,
      metrics,
      instanceId,
      version: definition.version,
      internalKeys: platform.internalKeys,
      env: options.env,
    };
    const notices = [...moved, ...((await definition.prepare?.(deps)) ?? [])];
    app = await definition.buildApp(deps);
    const port = await listen(app, common.host, options.port);
    return {
      ...announce(definition.name, instanceId, advertisedUrl(common, port), app, platform, db.close),
      notices,
    };
  } catch (error) {
    await app?.close();
    await db.close();
    throw error;
  }
}

/** Keeps the instance in the registry with heartbeats until it closes. */
function announce(
  name: ServiceName,
  instanceId: string,
  url: string,
  app: App,
  platform: Platform,
  closeDb: () => Promise<void>,
): Omit<RunningService, 'notices'> {
  const { registry } = platform.adapters;
  const beat = (): void => {
    registry.announce({ service: name, instanceId, url }).catch((error: unknown) => {
      app.log.warn({ err: error }, 'registry heartbeat failed');
    });
  };
  beat();
  const timer = setInterval(beat, platform.common.registryHeartbeatMs);
  timer.unref();
  return {
    name,
    url,
    app,
    close: async () => {
      clearInterval(timer);
      await registry.withdraw(name, instanceId).catch(() => undefined);
      await app.close();
      await closeDb();
    },
  };
}

/** Reads the common configuration; `ConfigError` names the variable when it is wrong. */
export function loadCommonConfig(env: Env): CommonConfig {
  return loadConfig(commonConfigSchema, env);
}
