import { randomBytes } from 'node:crypto';
import { connectRedis, createLogger, type Principal } from '@datalab/platform';
import { createBenchUser, createDatabase, withDatabase } from '../lib/database.ts';
import { internalTokenSigner } from '../lib/internal-token.ts';
import { freePort, serve, stop, waitForStatus, type Cleanup, type Spawned } from '../lib/processes.ts';

export interface StackOptions {
  /** A PostgreSQL server; the bench creates its own database on it and drops it afterwards. */
  postgresUrl: string;
  redisUrl: string;
  /** Shared by both processes, so they share the internal key generated in it. */
  dataDir: string;
  rateLimitDefault: number;
  rateLimitWindowMs: number;
  /** Extra node flags for the gateway process (e.g. --cpu-prof). */
  gatewayNodeFlags: string[];
}

export interface Stack {
  gatewayUrl: string;
  vizUrl: string;
  processes: { gateway: Spawned; viz: Spawned };
  principal: Principal;
  accessToken: string;
  /** `Authorization: Bearer <access token>`. */
  auth: Record<string, string>;
  /** A fresh internal token for the viz-service carrying the bench user, as the gateway would send. */
  internalToken: () => Promise<string>;
}

/** Deletes the run's Redis keys (rate-limit counters, registry), which would otherwise linger up to an hour. */
async function forgetRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = await connectRedis({
    url,
    sentinels: [],
    sentinelName: 'mymaster',
    connectTimeoutMs: 5000,
    logger: createLogger({ level: 'silent' }),
  });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.close();
  }
}

async function postJson(url: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Saved charts, newest first: a real 200 answered by the viz-service through the gateway. */
export const ENDPOINT = {
  method: 'GET',
  path: '/api/v1/viz/charts?limit=1',
  service: 'viz-service',
  prefix: '/api/v1/viz',
  why:
    'a small, real, authenticated 200 JSON that the gateway proxies to a service: the caller’s saved charts (one), ' +
    'listed by the viz-service with two indexed queries; chosen when the data-service had no dataset routes yet',
};

/** The small chart that list returns. */
const CHART = {
  title: 'Rainfall',
  spec: {
    data: { values: [{ city: 'Lyon', rain: 831 }] },
    mark: 'bar',
    encoding: { x: { field: 'city', type: 'nominal' }, y: { field: 'rain', type: 'quantitative' } },
  },
};

/**
 * The production shape: viz-service and api-gateway as separate `datalab serve`
 * processes on PostgreSQL and Redis (Redis-backed rate limits), one bench user
 * who owns one chart, and that user's access token.
 */
export async function startStack(options: StackOptions, cleanup: Cleanup): Promise<Stack> {
  const databaseUrl = withDatabase(
    options.postgresUrl,
    await createDatabase(options.postgresUrl, 'datalab_bench', cleanup),
  );
  const redisPrefix = `bench:gateway:${randomBytes(6).toString('hex')}:`;
  cleanup.add(() => forgetRedisKeys(options.redisUrl, redisPrefix));
  const [vizPort, gatewayPort] = [await freePort(), await freePort()];
  const common = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: redisPrefix,
    DATALAB_DATA_DIR: options.dataDir,
    LOG_LEVEL: 'warn',
  };
  const vizUrl = `http://127.0.0.1:${vizPort}`;
  const viz = serve('viz-service', { ...common, PORT: String(vizPort) });
  cleanup.add(() => stop(viz));
  await waitForStatus(`${vizUrl}/health/ready`, 200, viz, 60_000);

  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const gateway = serve(
    'api-gateway',
    {
      ...common,
      PORT: String(gatewayPort),
      VIZ_SERVICE_URL: vizUrl,
      RATE_LIMIT_DEFAULT: String(options.rateLimitDefault),
      RATE_LIMIT_WINDOW_MS: String(options.rateLimitWindowMs),
      // One login serves the whole run, waits for a quiet machine included.
      ACCESS_TOKEN_TTL_SECONDS: '3600',
    },
    options.gatewayNodeFlags,
  );
  cleanup.add(() => stop(gateway));
  await waitForStatus(`${gatewayUrl}/health/ready`, 200, gateway, 60_000);

  const user = await createBenchUser(databaseUrl);
  const login = await postJson(`${gatewayUrl}/api/v1/auth/login`, {
    email: user.email,
    password: user.password,
  });
  const accessToken = String(login.access_token);
  await postJson(`${gatewayUrl}/api/v1/viz/charts`, CHART, accessToken);

  const principal: Principal = { kind: 'user', userId: user.id, email: user.email, role: 'editor' };
  const sign = await internalTokenSigner(options.dataDir);
  return {
    gatewayUrl,
    vizUrl,
    processes: { gateway, viz },
    principal,
    accessToken,
    auth: { authorization: `Bearer ${accessToken}` },
    internalToken: () => sign(principal, 'viz-service'),
  };
}
