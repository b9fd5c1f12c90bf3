import { createBenchUser, createDatabase, withDatabase } from '../lib/database.ts';
import { serve, stop, waitForStatus, type Cleanup, type Spawned } from '../lib/processes.ts';

export interface StackOptions {
  /** A PostgreSQL server; the bench creates its own database on it and drops it afterwards. */
  postgresUrl: string;
  /** Shared by every process: the internal key and the model artifacts live in it. */
  dataDir: string;
  /** First of the six ports used (two gateways, two ai-services). */
  basePort: number;
  /** Rows merged per run when batching is on. */
  maxBatch: number;
  maxWaitMs: number;
  runConcurrency: number;
}

export interface Side {
  gatewayUrl: string;
  aiUrl: string;
  processes: { gateway: Spawned; ai: Spawned };
}

export interface Stack {
  on: Side;
  off: Side;
  auth: Record<string, string>;
}

async function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * Two identical paths, gateway → ai-service, as separate `datalab serve`
 * processes on one database and one artifact directory: one ai-service batches
 * (AI_BATCH_MAX_SIZE=maxBatch), the other runs every request alone (=1).
 */
export async function startStack(options: StackOptions, cleanup: Cleanup): Promise<Stack> {
  const databaseUrl = withDatabase(
    options.postgresUrl,
    await createDatabase(options.postgresUrl, 'datalab_bench_ai', cleanup),
  );
  const common = {
    DATABASE_URL: databaseUrl,
    DATALAB_DATA_DIR: options.dataDir,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_DEFAULT: '100000000',
    RATE_LIMIT_EXPENSIVE: '100000000',
    ACCESS_TOKEN_TTL_SECONDS: '3600',
    AI_RUN_CONCURRENCY: String(options.runConcurrency),
    AI_QUEUE_LIMIT: '100000',
  };
  const side = async (offset: number, maxBatch: number): Promise<Side> => {
    const aiPort = options.basePort + offset;
    const gatewayPort = aiPort + 1;
    const aiUrl = `http://127.0.0.1:${aiPort}`;
    const ai = serve('ai-service', {
      ...common,
      PORT: String(aiPort),
      AI_BATCH_MAX_SIZE: String(maxBatch),
      AI_BATCH_MAX_WAIT_MS: String(options.maxWaitMs),
    });
    cleanup.add(() => stop(ai));
    await waitForStatus(`${aiUrl}/health/ready`, 200, ai, 180_000);
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const gateway = serve('api-gateway', { ...common, PORT: String(gatewayPort), AI_SERVICE_URL: aiUrl });
    cleanup.add(() => stop(gateway));
    await waitForStatus(`${gatewayUrl}/health/ready`, 200, gateway, 180_000);
    return { gatewayUrl, aiUrl, processes: { gateway, ai } };
  };
  // One after the other: the first start migrates the database.
  const on = await side(0, options.maxBatch);
  const off = await side(2, 1);
  const user = await createBenchUser(databaseUrl);
  const login = await postJson(`${on.gatewayUrl}/api/v1/auth/login`, {
    email: user.email,
    password: user.password,
  });
  return { on, off, auth: { authorization: `Bearer ${String(login.access_token)}` } };
}
