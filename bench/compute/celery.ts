import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { spawnCommand, stop, type Cleanup, type Spawned } from '../lib/processes.ts';
import { forgetRedisKeys } from './stack.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';

export const CELERY_POOLS = ['solo', 'prefork', 'threads'] as const;
export type CeleryPool = (typeof CELERY_POOLS)[number];

export interface CeleryOptions {
  /** A Redis database index of the bench's Redis, for Celery's keys (it cannot prefix them on Debian's kombu). */
  brokerUrl: string;
  workers: number;
  /** `solo` runs tasks in the worker process itself; `prefork` in child processes. */
  pool: CeleryPool;
  concurrency: number;
  prefetch: number;
}

export interface Celery {
  processes: Spawned[];
  /** Submits `jobs` no-ops with at most `window` unfinished, waits for every result. */
  run: (jobs: number, window: number) => Promise<{ jobs: number; seconds: number; jobs_per_s: number }>;
}

export async function celeryVersion(): Promise<string> {
  const { stdout } = await promisify(execFile)(PYTHON, ['-m', 'celery', '--version']);
  return `Celery ${stdout.trim()} (Debian python3-celery), ${(await promisify(execFile)(PYTHON, ['--version'])).stdout.trim()}`;
}

/** Celery workers on their own queue (`--without-gossip/mingle/heartbeat`: no cluster chatter). */
export async function startCelery(options: CeleryOptions, cleanup: Cleanup): Promise<Celery> {
  const queue = `bench-compute-${randomBytes(4).toString('hex')}`;
  const env = {
    BENCH_CELERY_BROKER: options.brokerUrl,
    BENCH_CELERY_QUEUE: queue,
    BENCH_CELERY_PREFETCH: String(options.prefetch),
  };
  cleanup.add(() => forgetRedisKeys(options.brokerUrl, 'celery-task-meta-*'));
  cleanup.add(() => forgetRedisKeys(options.brokerUrl, `*${queue}*`));
  const processes = Array.from({ length: options.workers }, (_, index) =>
    spawnCommand(
      PYTHON,
      [
        '-m',
        'celery',
        '--workdir',
        here,
        '-A',
        'celery_noop',
        'worker',
        `--pool=${options.pool}`,
        `--concurrency=${options.concurrency}`,
        '--without-gossip',
        '--without-mingle',
        '--without-heartbeat',
        '--loglevel=WARNING',
        `--hostname=bench${index}@%h`,
      ],
      env,
    ),
  );
  for (const worker of processes) cleanup.add(() => stop(worker));
  const client = async (args: string[]): Promise<string> => {
    const run = spawnCommand(PYTHON, [path.join(here, 'celery_noop.py'), ...args], env);
    const { code } = await run.exited;
    if (code !== 0) throw new Error(`the Celery client failed:\n${run.output()}`);
    return run.output();
  };
  // Ready once a first round trip completes on every worker's queue.
  await client(['50', '50']);
  for (const worker of processes)
    if (worker.child.exitCode !== null) throw new Error(`a Celery worker exited:\n${worker.output()}`);
  return {
    processes,
    run: async (jobs, window) => {
      const output = await client([String(jobs), String(window)]);
      return JSON.parse(output.trim().split('\n').at(-1)!) as {
        jobs: number;
        seconds: number;
        jobs_per_s: number;
      };
    },
  };
}
