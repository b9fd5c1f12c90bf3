import { randomBytes } from 'node:crypto';
import { ensureQueryRole, type Principal } from '@datalab/platform';
import { internalTokenSigner } from '../lib/internal-token.ts';
import { createBenchUser, createDatabase, withDatabase } from '../lib/database.ts';
import {
  freePort,
  serve,
  spawnCommand,
  stop,
  waitForStatus,
  type Cleanup,
  type Spawned,
} from '../lib/processes.ts';

export interface StackOptions {
  /** A PostgreSQL server; the bench creates its own database on it and drops it afterwards. */
  postgresUrl: string;
  redisUrl: string;
  /** Shared by both processes, so they share the internal key generated in it. */
  dataDir: string;
  /** QUERY_CACHE_TTL_SECONDS of the first data-service (0: the cache is off). */
  cacheTtlSeconds: number;
  /** Extra node flags for the data-service process (e.g. --cpu-prof). */
  dataNodeFlags?: string[];
}

export interface Stack {
  databaseUrl: string;
  gatewayUrl: string;
  /** The data-service itself, for calls that bypass the gateway with an internal token. */
  dataUrl: string;
  /** A 60-second internal token for the bench user, as the gateway would send the data-service. */
  internalToken: () => Promise<string>;
  processes: { gateway: Spawned; data: Spawned };
  /** `Authorization: Bearer <access token>`. */
  auth: Record<string, string>;
  /** Stops the data-service (SIGTERM, so a --cpu-prof profile is written). */
  stopData: () => Promise<void>;
  /** Starts it again on the same port, with another cache TTL (0: off). */
  startData: (cacheTtlSeconds: number, nodeFlags?: string[]) => Promise<void>;
}

/** So high that nothing is refused; one window for the whole run. */
const RATE_LIMITS = {
  RATE_LIMIT_DEFAULT: '100000000',
  RATE_LIMIT_EXPENSIVE: '100000000',
  RATE_LIMIT_LOGIN: '1000',
  RATE_LIMIT_WINDOW_MS: '3600000',
};

/** `datalab migrate data-service`, as an operator would run it before the first start. */
async function migrate(env: Record<string, string>): Promise<void> {
  const spawned = spawnCommand(
    process.execPath,
    ['--import', 'tsx', 'packages/cli/src/main.ts', 'migrate', 'data-service'],
    env,
  );
  const { code } = await spawned.exited;
  if (code !== 0) throw new Error(`datalab migrate data-service failed:\n${spawned.output()}`);
}

async function login(gatewayUrl: string, user: { email: string; password: string }): Promise<string> {
  const response = await fetch(`${gatewayUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: user.email, password: user.password }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`login: ${response.status} ${text}`);
  return String((JSON.parse(text) as { access_token: string }).access_token);
}

/**
 * The production shape: data-service and api-gateway as separate `datalab serve` processes on
 * PostgreSQL (with the restricted query login) and Redis, one bench user and its access token.
 */
export async function startStack(options: StackOptions, cleanup: Cleanup): Promise<Stack> {
  const name = await createDatabase(options.postgresUrl, 'datalab_bench_data', cleanup);
  const databaseUrl = withDatabase(options.postgresUrl, name);
  const [dataPort, gatewayPort] = [await freePort(), await freePort()];
  const common = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: `bench:${randomBytes(6).toString('hex')}:`,
    DATALAB_DATA_DIR: options.dataDir,
    LOG_LEVEL: 'warn',
  };
  const dataUrl = `http://127.0.0.1:${dataPort}`;
  const startData = async (cacheTtlSeconds: number, nodeFlags: string[] = []): Promise<Spawned> => {
    const env = {
      ...common,
      PORT: String(dataPort),
      QUERY_DATABASE_URL: withDatabase(options.postgresUrl, name, 'datalab_query'),
      QUERY_CACHE_TTL_SECONDS: String(cacheTtlSeconds),
    };
    const spawned = serve('data-service', env, nodeFlags);
    cleanup.add(() => stop(spawned));
    await waitForStatus(`${dataUrl}/health/ready`, 200, spawned, 60_000);
    return spawned;
  };

  // The data-service's migrations make datalab_reader, which the query login is then made a member of.
  await migrate(common);
  await ensureQueryRole(databaseUrl);

  const processes = {
    data: await startData(options.cacheTtlSeconds, options.dataNodeFlags),
  } as Stack['processes'];
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  processes.gateway = serve('api-gateway', {
    ...common,
    ...RATE_LIMITS,
    PORT: String(gatewayPort),
    DATA_SERVICE_URL: dataUrl,
    // One login serves the whole run, waits for a quiet machine included.
    ACCESS_TOKEN_TTL_SECONDS: '7200',
    // The upload is answered once every row is in: longer than the default minute on a slow machine.
    UPSTREAM_TIMEOUT_MS: '600000',
  });
  cleanup.add(() => stop(processes.gateway));
  await waitForStatus(`${gatewayUrl}/health/ready`, 200, processes.gateway, 60_000);

  const user = await createBenchUser(databaseUrl);
  const accessToken = await login(gatewayUrl, user);
  const principal: Principal = { kind: 'user', userId: user.id, email: user.email, role: 'editor' };
  const sign = await internalTokenSigner(options.dataDir);
  return {
    databaseUrl,
    gatewayUrl,
    dataUrl,
    internalToken: () => sign(principal, 'data-service'),
    processes,
    auth: { authorization: `Bearer ${accessToken}` },
    stopData: () => stop(processes.data),
    startData: async (cacheTtlSeconds, nodeFlags) => {
      processes.data = await startData(cacheTtlSeconds, nodeFlags);
    },
  };
}
