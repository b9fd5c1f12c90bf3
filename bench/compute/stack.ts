import { randomBytes, randomUUID } from 'node:crypto';
import type { Principal } from '@datalab/platform';
import { internalTokenSigner } from '../lib/internal-token.ts';
import { createDatabase, withClient, withDatabase } from '../lib/database.ts';
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
  postgresUrl: string;
  redisUrl: string;
  /** The services' keys live here (the bench signs internal tokens with the same key). */
  dataDir: string;
  workers: number;
  /** Jobs each worker runs at once. */
  concurrency: number;
}

export interface Stack {
  computeUrl: string;
  databaseUrl: string;
  processes: { compute: Spawned; workers: Spawned[] };
  /** An internal token carrying `principal` (default: a new editor), as the gateway would send. */
  caller: (principal?: Principal) => Promise<{ principal: Principal; token: string }>;
}

/** Deletes the run's Redis keys (BullMQ queues, events), which would otherwise linger. */
export async function forgetRedisKeys(url: string, pattern: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function workersRegistered(databaseUrl: string, count: number, workers: Spawned[]): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    for (const worker of workers)
      if (worker.child.exitCode !== null) throw new Error(`a worker exited early:\n${worker.output()}`);
    const rows = await withClient(databaseUrl, (client) =>
      client.query<{ n: number }>('SELECT count(*)::int AS n FROM compute.workers'),
    ).catch(() => ({ rows: [{ n: 0 }] }));
    if ((rows.rows[0]?.n ?? 0) >= count) return;
    if (Date.now() > deadline) throw new Error('the workers did not register in time');
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/**
 * Distributed mode as deployed: `datalab serve compute-service` and
 * `workers` × `datalab worker --concurrency n`, on their own database and a
 * random Redis key prefix.
 */
export async function startStack(options: StackOptions, cleanup: Cleanup): Promise<Stack> {
  const databaseUrl = withDatabase(
    options.postgresUrl,
    await createDatabase(options.postgresUrl, 'datalab_bench_compute', cleanup),
  );
  const redisPrefix = `bench:compute:${randomBytes(6).toString('hex')}:`;
  cleanup.add(() => forgetRedisKeys(options.redisUrl, `${redisPrefix}*`));
  const port = await freePort();
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: redisPrefix,
    DATALAB_DATA_DIR: options.dataDir,
    LOG_LEVEL: 'warn',
    // No gateway in this stack (the bench calls compute directly, as the gateway would): jobs run
    // with the rights they were submitted with.
    JOB_OWNER_CHECK: 'off',
  };
  const computeUrl = `http://127.0.0.1:${port}`;
  const compute = serve('compute-service', { ...env, PORT: String(port) });
  cleanup.add(() => stop(compute));
  await waitForStatus(`${computeUrl}/health/ready`, 200, compute, 120_000);

  const workers = Array.from({ length: options.workers }, () =>
    spawnCommand(
      process.execPath,
      ['--import', 'tsx', 'packages/cli/src/main.ts', 'worker', '--concurrency', String(options.concurrency)],
      env,
    ),
  );
  for (const worker of workers) cleanup.add(() => stop(worker));
  await workersRegistered(databaseUrl, options.workers, workers);

  const sign = await internalTokenSigner(options.dataDir);
  return {
    computeUrl,
    databaseUrl,
    processes: { compute, workers },
    caller: async (
      principal: Principal = {
        kind: 'user',
        userId: randomUUID(),
        email: `bench-${randomBytes(4).toString('hex')}@example.test`,
        role: 'editor',
      },
    ) => {
      return { principal, token: await sign(principal, 'compute-service') };
    },
  };
}
