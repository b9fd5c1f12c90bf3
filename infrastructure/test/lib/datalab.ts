import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loginAt, userFactory } from '../../../test/gateway.ts';
import { freePort, queryOnce, spawnTs, waitForStatus, type Spawned } from '../../../test/processes.ts';

export const SERVICES = ['api-gateway', 'data-service', 'ai-service', 'compute-service', 'viz-service'];

/** Five consecutive free ports (`datalab up` takes PORT..PORT+4), below the ephemeral range. */
async function freePortRange(): Promise<number> {
  const canListen = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 10000);
    if ((await Promise.all([0, 1, 2, 3, 4].map((offset) => canListen(base + offset)))).every(Boolean))
      return base;
  }
}

export interface RunningDataLab {
  /** The gateway's port; the services take the next four. */
  base: number;
  /** Where Prometheus scrapes each service, in SERVICES order: the gateway's metrics port, then the services' own. */
  scrapePorts: number[];
  gateway: string;
  /** Environment every process of this DataLab shares (database, data dir, Redis prefix...). */
  env: Record<string, string>;
  datalab: Spawned;
  /** An editor's access token. */
  token: string;
  close: () => Promise<void>;
}

/**
 * `datalab up` on a database of its own (created on the test server and
 * dropped afterwards), so its workers and reconciler see only its own jobs.
 */
export async function startDataLab(adminUrl: string, extra: Record<string, string>): Promise<RunningDataLab> {
  const database = `dl_${randomBytes(4).toString('hex')}`;
  const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();
  await queryOnce(adminUrl, `CREATE DATABASE ${database}`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'datalab-infra-'));
  const base = await freePortRange();
  const metricsPort = await freePort();
  const env = {
    DATABASE_URL: databaseUrl,
    DATALAB_DATA_DIR: dataDir,
    REDIS_PREFIX: `${database}:`,
    LOG_LEVEL: 'info',
    RECONCILE_INTERVAL_MS: '1000',
    GATEWAY_METRICS_PORT: String(metricsPort),
    ...extra,
  };
  const datalab = spawnTs('packages/cli/src/main.ts', ['up'], { ...env, PORT: String(base) });
  const close = async (): Promise<void> => {
    datalab.child.kill('SIGTERM');
    await datalab.exited;
    await queryOnce(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    for (const offset of [0, 1, 2, 3, 4])
      await waitForStatus(`http://127.0.0.1:${base + offset}/health/ready`, 200, datalab, 150_000);
    const users = await userFactory(databaseUrl);
    const gateway = `http://127.0.0.1:${base}`;
    const token = await loginAt(gateway, await users.create('editor'));
    await users.close();
    const scrapePorts = [metricsPort, base + 1, base + 2, base + 3, base + 4];
    return { base, scrapePorts, gateway, env, datalab, token, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A `datalab worker` sharing the DataLab's database and queue. */
export function startWorker(datalab: RunningDataLab, extra: Record<string, string>): Spawned {
  return spawnTs('packages/cli/src/main.ts', ['worker'], { ...datalab.env, ...extra });
}

export interface LogLine {
  service?: string;
  msg?: string;
  request_id?: string;
  trace_id?: string;
  job_id?: string;
}

/** The JSON log lines the processes printed so far. */
export function logLines(...processes: (Spawned | undefined)[]): LogLine[] {
  return processes
    .flatMap((spawned) => spawned?.output().split('\n') ?? [])
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/** Polls `probe` until it returns a value. */
export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
