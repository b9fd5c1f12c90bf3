import pg from 'pg';
import type { Logger } from 'pino';
import { ConfigError } from '../config/config.ts';
import type { DependencyCheck } from '../server/health.ts';
import { meteredClient } from './row-budget.ts';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface DatabaseOptions {
  url: string;
  /** A replica for read-only queries; the primary when unset. */
  readUrl?: string | undefined;
  /** A restricted login for user SQL; no query pool when unset. */
  queryUrl?: string | undefined;
  poolSize: number;
  /** Largest message one connection reads from PostgreSQL (a bigger one fails its query); default 128 MiB. */
  maxMessageBytes?: number;
  connectTimeoutMs: number;
  /** Shown in pg_stat_activity, so an operator sees which service holds a connection. */
  applicationName: string;
  logger: Logger;
}

export interface Database {
  pool: Pool;
  /** The replica pool when READ_DATABASE_URL is set, otherwise the primary pool. */
  readPool: Pool;
  /**
   * Where user SQL runs: the restricted login (QUERY_DATABASE_URL, or embedded mode's own). Unset
   * without one: user SQL is then refused rather than run on this process's own login.
   */
  queryPool: Pool | undefined;
  dependencies: DependencyCheck[];
  close: () => Promise<void>;
}

/** The ceiling of one message from PostgreSQL, well below V8's largest string (about 512 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 128 * 1024 * 1024;

function createPool(url: string, options: DatabaseOptions, role: string): Pool {
  const pool = new pg.Pool({
    Client: meteredClient(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES),
    connectionString: url,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName,
  });
  // An idle connection that breaks (server restart, failover) must not crash the process.
  pool.on('error', (error) =>
    options.logger.warn({ err: error, pool: role }, 'idle PostgreSQL connection failed'),
  );
  return pool;
}

/** host:port of a URL, without credentials, for messages a person reads. */
export function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}

async function ping(pool: Pool): Promise<void> {
  await pool.query('SELECT 1');
}

async function verifyReachable(pool: Pool, variable: string, url: string): Promise<void> {
  try {
    await ping(pool);
  } catch (error) {
    const reason =
      error instanceof Error ? ((error as { code?: string }).code ?? error.message) : String(error);
    throw new ConfigError(variable, `cannot be reached: ${reason} (${describeUrl(url)})`);
  }
}

/** Opens the pools and proves PostgreSQL answers, failing fast with the variable at fault. */
export async function connectDatabase(options: DatabaseOptions): Promise<Database> {
  const pool = createPool(options.url, options, 'primary');
  const readPool = options.readUrl ? createPool(options.readUrl, options, 'replica') : pool;
  const queryPool = options.queryUrl ? createPool(options.queryUrl, options, 'query') : undefined;
  const pools = [...new Set([pool, readPool, ...(queryPool ? [queryPool] : [])])];
  try {
    await verifyReachable(pool, 'DATABASE_URL', options.url);
    if (options.readUrl) await verifyReachable(readPool, 'READ_DATABASE_URL', options.readUrl);
    if (queryPool && options.queryUrl)
      await verifyReachable(queryPool, 'QUERY_DATABASE_URL', options.queryUrl);
  } catch (error) {
    await Promise.allSettled(pools.map((p) => p.end()));
    throw error;
  }
  const dependencies: DependencyCheck[] = [{ name: 'postgres', check: () => ping(pool) }];
  if (readPool !== pool) dependencies.push({ name: 'postgres-replica', check: () => ping(readPool) });
  return {
    pool,
    readPool,
    queryPool,
    dependencies,
    close: async () => {
      for (const each of pools) await each.end();
    },
  };
}
