import { randomBytes } from 'node:crypto';
import { ensureQueryRole } from '@datalab/platform';
import { spawnCommand } from '../lib/processes.ts';
import { createBenchUser, createDatabase, withDatabase } from '../lib/database.ts';
import { serve, stop, waitForStatus, type Cleanup, type Spawned } from '../lib/processes.ts';
import { csv, SCATTER } from './scatter.ts';
import { call, UNLIMITED_RATES } from '../lib/setup-calls.ts';

export interface StackOptions {
  postgresUrl: string;
  redisUrl: string;
  dataDir: string;
  /** gateway on basePort, data-service on +1, viz-service on +4 (the `datalab up` layout). */
  basePort: number;
}

export interface Stack {
  gatewayUrl: string;
  processes: { gateway: Spawned; data: Spawned; viz: Spawned };
  auth: Record<string, string>;
  /** The saved 1,000-point scatter, reading the uploaded dataset. */
  chartId: string;
  datasetName: string;
}

/**
 * The production shape: api-gateway, data-service and viz-service as separate
 * `datalab serve` processes on PostgreSQL (with the restricted query login) and
 * Redis; one bench user, a 1,000-row dataset and a chart of it.
 */
export async function startStack(options: StackOptions, cleanup: Cleanup): Promise<Stack> {
  const name = await createDatabase(options.postgresUrl, 'datalab_bench_viz', cleanup);
  const databaseUrl = withDatabase(options.postgresUrl, name);
  const common = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: `bench:viz:${randomBytes(6).toString('hex')}:`,
    DATALAB_DATA_DIR: options.dataDir,
    LOG_LEVEL: 'warn',
  };
  const migrate = spawnCommand(
    process.execPath,
    ['--import', 'tsx', 'packages/cli/src/main.ts', 'migrate', 'data-service'],
    common,
  );
  if ((await migrate.exited).code !== 0)
    throw new Error(`datalab migrate data-service failed:\n${migrate.output()}`);
  // The restricted login user SQL runs as, made as an operator would (see test/global-setup.ts).
  await ensureQueryRole(databaseUrl);

  const url = (offset: number) => `http://127.0.0.1:${options.basePort + offset}`;
  const start = async (service: string, offset: number, env: Record<string, string>): Promise<Spawned> => {
    const spawned = serve(service, { ...common, ...env, PORT: String(options.basePort + offset) });
    cleanup.add(() => stop(spawned));
    await waitForStatus(`${url(offset)}/health/ready`, 200, spawned, 90_000);
    return spawned;
  };
  const data = await start('data-service', 1, {
    QUERY_DATABASE_URL: withDatabase(options.postgresUrl, name, 'datalab_query'),
  });
  const viz = await start('viz-service', 4, { VIZ_DATA_SERVICE_URL: url(1) });
  const gateway = await start('api-gateway', 0, {
    ...UNLIMITED_RATES,
    DATA_SERVICE_URL: url(1),
    VIZ_SERVICE_URL: url(4),
    ACCESS_TOKEN_TTL_SECONDS: '7200',
  });

  const user = await createBenchUser(databaseUrl);
  const login = await call(`${url(0)}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: user.email, password: user.password }),
  });
  const auth = { authorization: `Bearer ${String(login.access_token)}` };
  const form = new FormData();
  form.append('name', 'bench_points');
  form.append('file', new Blob([csv()]), 'bench_points.csv');
  const upload = await call(`${url(0)}/api/v1/data/datasets`, { method: 'POST', headers: auth, body: form });
  const datasetName = String((upload.dataset as { name: string }).name);
  const chart = await call(`${url(0)}/api/v1/viz/charts`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'bench scatter', spec: { ...SCATTER, data: { dataset: datasetName } } }),
  });
  return {
    gatewayUrl: url(0),
    processes: { gateway, data, viz },
    auth,
    chartId: String(chart.id),
    datasetName,
  };
}
