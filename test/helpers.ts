import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import {
  connectDatabase,
  connectRedis,
  createLogger,
  createMemoryAdapters,
  createRedisAdapters,
  loadCommonConfig,
  startPlatform,
  type Adapters,
  type Env,
  type Logger,
  type Platform,
} from '@datalab/platform';

export const silentLogger: Logger = createLogger({ level: 'silent' });

/** A short random suffix, so each test's data is its own. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** The environment a test process would run with: the test database, the test Redis if any. */
export function testEnv(extra: Env = {}): Env {
  const redisUrl = inject('redisUrl');
  return {
    DATABASE_URL: inject('databaseUrl'),
    QUERY_DATABASE_URL: inject('queryDatabaseUrl'),
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    // Each test's registry, cache and events are its own, even on a shared Redis.
    REDIS_PREFIX: `${uniqueName('test')}:`,
    LOG_LEVEL: 'silent',
    PORT: '0',
    // Generated keys and embedded files go to a scratch folder, never into the repository.
    DATALAB_DATA_DIR: path.join(os.tmpdir(), 'datalab-test-data'),
    REGISTRY_HEARTBEAT_MS: '200',
    UPSTREAM_HEALTH_INTERVAL_MS: '200',
    ...extra,
  };
}

/** The same platform a real process builds: real PostgreSQL, Redis adapters when REDIS_URL is set. */
export function testPlatform(extra: Env = {}): Promise<Platform> {
  return startPlatform(loadCommonConfig(testEnv(extra)), silentLogger);
}

export async function testDatabase() {
  return connectDatabase({
    url: inject('databaseUrl'),
    poolSize: 5,
    connectTimeoutMs: 5000,
    applicationName: 'datalab-test',
    logger: silentLogger,
  });
}

export async function redisAdapters(): Promise<Adapters> {
  const url = inject('redisUrl');
  if (!url) throw new Error('REDIS_URL is not set');
  const connection = await connectRedis({
    url,
    sentinels: [],
    sentinelName: 'mymaster',
    connectTimeoutMs: 2000,
    logger: silentLogger,
  });
  return createRedisAdapters(connection, { cacheMaxBytes: 1 << 20, registryTtlMs: 1000 });
}

export function memoryAdapters(): Adapters {
  return createMemoryAdapters({ cacheMaxBytes: 1 << 20, registryTtlMs: 1000 });
}
