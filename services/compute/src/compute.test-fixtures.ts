import { expect, inject } from 'vitest';
import {
  startService,
  type Env,
  type Platform,
  type Principal,
  type RunningService,
} from '@datalab/platform';
import { testEnv, testPlatform, uniqueName } from '../../../test/helpers.ts';
import { callJson } from '../../../test/internal.ts';
import { eventually, queryOnce, spawnTs, type Spawned } from '../../../test/processes.ts';
import { computeService } from './definition.ts';
import type { Job } from './jobs/jobs.schemas.ts';

/** compute-service tests: a database of their own, the service, its API, and real worker processes. */

export const JOBS = '/api/v1/compute/jobs';

/**
 * A fresh database on the test server, so the jobs, workers and reconcilers of
 * one test file never meet another's (a reconciler dispatches every queued job it sees).
 */
export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const server = inject('databaseUrl');
  const name = uniqueName('compute_test');
  await queryOnce(server, `CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => void (await queryOnce(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

export interface Compute {
  platform: Platform;
  service: RunningService;
  /** The environment the service runs with; workers spawned for it share its database, Redis and prefix. */
  env: Env;
  call: <T>(
    as: Principal,
    method: string,
    path: string,
    body?: unknown,
  ) => Promise<{ status: number; body: T }>;
  close: () => Promise<void>;
}

/** The compute-service on its own database, called as the gateway would. */
export async function startCompute(extra: Env = {}): Promise<Compute> {
  const database = await freshDatabase();
  // No gateway here to ask who a job's owner is now: jobs run as submitted (the security suite
  // tests the owner check on a whole DataLab).
  const env = testEnv({ DATABASE_URL: database.url, JOB_OWNER_CHECK: 'off', ...extra });
  const platform = await testPlatform(env);
  const service = await startService(computeService, platform, { env, port: 0 });
  return {
    platform,
    service,
    env,
    call: <T>(as: Principal, method: string, path: string, body?: unknown) =>
      callJson<T>(platform, service, as, method, path, body),
    close: async () => {
      await service.close();
      await platform.close();
      await database.drop();
    },
  };
}

/** Submits a job as `owner` and expects it accepted. */
export async function submit(
  compute: Compute,
  owner: Principal,
  type: string,
  params: object = {},
): Promise<Job> {
  const answer = await compute.call<Job>(owner, 'POST', JOBS, { type, params });
  expect(answer.status).toBe(201);
  return answer.body;
}

/** Polls the job until `done` holds, or fails with its last state after `timeoutMs`. */
export async function waitForJob(
  compute: Compute,
  owner: Principal,
  id: string,
  done: (job: Job) => boolean,
  timeoutMs = 15_000,
): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await compute.call<Job>(owner, 'GET', `${JOBS}/${id}`);
    if (done(body)) return body;
    if (Date.now() > deadline)
      throw new Error(`job ${id} did not get there in time: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export { eventually };

/** A real `datalab worker` process for this compute-service's database and Redis. */
export function spawnWorker(compute: Compute, args: string[] = [], extra: Env = {}): Spawned {
  return spawnTs('packages/cli/src/main.ts', ['worker', ...args], {
    ...compute.env,
    LOG_LEVEL: 'info',
    ...extra,
  });
}

/** The ids of the workers that announced themselves in compute.workers. */
export async function workerIds(compute: Compute): Promise<string[]> {
  const rows = await queryOnce(
    compute.env.DATABASE_URL!,
    'SELECT id FROM compute.workers ORDER BY started_at',
  );
  return rows.map((row) => String(row.id));
}

/** Waits until `count` of the `spawned` workers have registered; their ids. */
export async function workersRegistered(
  compute: Compute,
  count: number,
  spawned: Spawned[],
): Promise<string[]> {
  // Starting a worker loads every service's job types: slow on a busy machine, and not what tests measure.
  return eventually(
    `${count} workers to register`,
    async () => {
      for (const worker of spawned)
        if (worker.child.exitCode !== null) throw new Error(`worker exited early:\n${worker.output()}`);
      // Worker ids carry their process id; a SIGKILLed worker of an earlier test leaves its row behind.
      const ids = (await workerIds(compute)).filter((id) =>
        spawned.some((worker) => id.includes(`-${worker.child.pid}-`)),
      );
      return ids.length >= count ? ids : undefined;
    },
    90_000,
  );
}

/** SIGTERM, then the exit status. */
export async function stopWorker(
  worker: Spawned,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
  return worker.exited;
}
