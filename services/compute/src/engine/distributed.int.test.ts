import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { person } from '../../../../test/internal.ts';
import { freePort, queryOnce, spawnCommand, type Spawned } from '../../../../test/processes.ts';
import {
  eventually,
  JOBS,
  startCompute,
  stopWorker,
  spawnWorker,
  submit,
  waitForJob,
  workersRegistered,
  type Compute,
} from '../compute.test-fixtures.ts';
import type { Job, JobLogs } from '../jobs/jobs.schemas.ts';

const redisUrl = inject('redisUrl');
const FAST = {
  JOB_LEASE_MS: '3000',
  RECONCILE_INTERVAL_MS: '500',
  WORKER_CONCURRENCY: '4',
  SCHEDULER_INTERVAL_MS: '200',
  SCHEDULE_MIN_INTERVAL_S: '1',
};
const editor = person('editor');
/** Tests that start several workers at once: on a busy machine starting them dominates. */
const SEVERAL_WORKERS_MS = 150_000;

/** Every job of the database with its attempts and worker, for checking what ran how often. */
async function allJobs(compute: Compute) {
  const rows = await queryOnce(
    compute.env.DATABASE_URL!,
    'SELECT id, state, attempts, worker_id, result FROM compute.jobs ORDER BY created_at',
  );
  return rows as { id: string; state: string; attempts: number; worker_id: string; result: unknown }[];
}

describe.skipIf(!redisUrl)('`datalab worker` processes on Redis (distributed mode)', () => {
  let compute: Compute;
  const workers: Spawned[] = [];
  const spawn = (args: string[] = [], extra = {}): Spawned => {
    const worker = spawnWorker(compute, args, extra);
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    compute = await startCompute(FAST);
  });
  afterEach(async () => {
    // Each test starts the workers it needs; none outlives it.
    await Promise.all(workers.splice(0).map((worker) => stopWorker(worker)));
  });
  afterAll(async () => {
    await compute?.close();
  });

  it(
    'two workers and 200 noop jobs: every job runs exactly once',
    async () => {
      const metricsPort = await freePort();
      const pair = [
        spawn(['--concurrency', '8'], { WORKER_METRICS_PORT: String(metricsPort) }),
        spawn(['--concurrency=8']),
      ];
      await workersRegistered(compute, 2, pair);

      const submitted: Job[] = [];
      for (let batch = 0; batch < 10; batch++)
        submitted.push(
          ...(await Promise.all(Array.from({ length: 20 }, () => submit(compute, editor, 'noop')))),
        );
      const jobs = await eventually('200 jobs to succeed', async () => {
        const all = await allJobs(compute);
        return all.filter((job) => job.state === 'succeeded').length === 200 ? all : undefined;
      });
      expect(jobs.map((job) => job.id).sort()).toEqual(submitted.map((job) => job.id).sort());
      expect(jobs.every((job) => job.attempts === 1)).toBe(true);
      expect(jobs.every((job) => JSON.stringify(job.result) === '{"slept_ms":0}')).toBe(true);
      const perWorker = new Map<string, number>();
      for (const job of jobs) perWorker.set(job.worker_id, (perWorker.get(job.worker_id) ?? 0) + 1);
      expect(perWorker.size).toBe(2);
      // The first worker counts its own attempts, as Prometheus scrapes them from the worker process.
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const counted = /compute_job_attempts_total\{type="noop"[^}]*\} (\d+)/.exec(metrics)?.[1];
      expect([...perWorker.values()]).toContain(Number(counted));
      expect(metrics).toMatch(
        /compute_job_duration_seconds_count\{[^}]*type="noop",outcome="succeeded"[^}]*\} [1-9]/,
      );
    },
    SEVERAL_WORKERS_MS,
  );

  it(
    'a schedule ticking every second with three workers (and the service) racing to fire it: one job per tick',
    async () => {
      const trio = [spawn(), spawn(), spawn()];
      await workersRegistered(compute, 3, trio);
      const owner = person('editor');
      const created = await compute.call<{ id: string }>(owner, 'POST', '/api/v1/compute/schedules', {
        name: 'every second',
        cron: '* * * * * *',
        job: { type: 'noop' },
      });
      expect(created.status).toBe(201);
      const schedule = created.body.id;
      await eventually('five ticks to run', async () => {
        const [row] = await queryOnce(
          compute.env.DATABASE_URL!,
          `SELECT count(*)::int AS n FROM compute.schedule_runs WHERE schedule_id = '${schedule}'`,
        );
        return Number(row?.n) >= 5 ? true : undefined;
      });
      expect((await compute.call(owner, 'POST', `/api/v1/compute/schedules/${schedule}/pause`)).status).toBe(
        200,
      );

      const runs = await queryOnce(
        compute.env.DATABASE_URL!,
        `SELECT tick, job_id FROM compute.schedule_runs WHERE schedule_id = '${schedule}' ORDER BY tick`,
      );
      const theirJobs = await eventually('the scheduled jobs to succeed', async () => {
        const rows = await queryOnce(
          compute.env.DATABASE_URL!,
          `SELECT id, state, attempts FROM compute.jobs WHERE owner_id = '${owner.userId}'`,
        );
        return rows.every((row) => row.state === 'succeeded') ? rows : undefined;
      });
      // Every job the schedule started belongs to exactly one tick, each tick a distinct second.
      expect(theirJobs.map((job) => job.id).sort()).toEqual(runs.map((run) => run.job_id).sort());
      expect(theirJobs.every((job) => job.attempts === 1)).toBe(true);
      const ticks = runs.map((run) => (run.tick as Date).getTime());
      expect(new Set(ticks).size).toBe(ticks.length);
      expect(ticks.every((tick) => tick % 1000 === 0)).toBe(true);
    },
    SEVERAL_WORKERS_MS,
  );

  it(
    'a worker killed with SIGKILL mid-job: the job is requeued after its lease and another worker completes it once',
    async () => {
      const pair = [spawn(), spawn()];
      await workersRegistered(compute, 2, pair);
      const job = await submit(compute, editor, 'noop', { duration_ms: 5000 });
      const running = await waitForJob(
        compute,
        editor,
        job.id,
        (j) => j.state === 'running' && j.progress > 0,
      );
      // Worker ids carry the process id: kill whichever took the job.
      const doomed = pair.find((worker) => running.worker_id?.includes(`-${worker.child.pid}-`))!;
      const survivor = pair.find((worker) => worker !== doomed)!;

      doomed.child.kill('SIGKILL');
      await doomed.exited;
      const done = await waitForJob(compute, editor, job.id, (j) => j.state === 'succeeded', 60_000);

      expect(done).toMatchObject({ attempts: 2, result: { slept_ms: 5000 } });
      expect(done.worker_id).toContain(`-${survivor.child.pid}-`);
      const { logs } = (await compute.call<JobLogs>(editor, 'GET', `${JOBS}/${job.id}/logs`)).body;
      expect(logs.map((line) => line.message)).toEqual([
        `worker ${running.worker_id} stopped renewing its lease: queued again`,
      ]);
      const [row] = await queryOnce(
        compute.env.DATABASE_URL!,
        `SELECT count(*)::int AS n FROM compute.jobs WHERE id = '${job.id}' AND state = 'succeeded'`,
      );
      expect(row?.n).toBe(1);
    },
    SEVERAL_WORKERS_MS,
  );

  it('SIGTERM: the worker finishes its running job, leaves the registry and exits 0', async () => {
    const worker = spawn();
    await workersRegistered(compute, 1, [worker]);
    const job = await submit(compute, editor, 'noop', { duration_ms: 2000 });
    await waitForJob(compute, editor, job.id, (j) => j.state === 'running');

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });

    const after = (await compute.call<Job>(editor, 'GET', `${JOBS}/${job.id}`)).body;
    expect(after).toMatchObject({ state: 'succeeded', attempts: 1 });
    const registered = await queryOnce(compute.env.DATABASE_URL!, 'SELECT id FROM compute.workers');
    expect(registered.map((row) => row.id)).not.toContain(after.worker_id);
  });

  it('SIGTERM past the grace period: the worker hands its job back (queued, attempt not counted) and exits 0', async () => {
    const worker = spawn([], { WORKER_SHUTDOWN_GRACE_MS: '300' });
    await workersRegistered(compute, 1, [worker]);
    const job = await submit(compute, editor, 'noop', { duration_ms: 60_000 });
    await waitForJob(compute, editor, job.id, (j) => j.state === 'running');

    const stopping = Date.now();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - stopping).toBeLessThan(5000);

    const after = (await compute.call<Job>(editor, 'GET', `${JOBS}/${job.id}`)).body;
    expect(after).toMatchObject({ state: 'queued', attempts: 0, result: null });
    // No worker is left to take it: cancel it so nothing of this test stays queued.
    expect((await compute.call<Job>(editor, 'POST', `${JOBS}/${job.id}/cancel`)).body.state).toBe(
      'cancelled',
    );
  });
});

describe.skipIf(!redisUrl)('Redis losing its data (FLUSHALL on a redis-server of its own)', () => {
  let redis: Spawned;
  let compute: Compute;
  let worker: Spawned | undefined;
  let url = '';

  beforeAll(async () => {
    // Never FLUSHALL the shared Redis: this test starts its own, with nothing else on it.
    const port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    redis = spawnCommand(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {},
    );
    await eventually('the test redis-server to answer', async () => {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG' ? true : undefined;
      } catch {
        return undefined;
      } finally {
        probe.disconnect();
      }
    });
    compute = await startCompute({ ...FAST, REDIS_URL: url, WORKER_CONCURRENCY: '2' });
  });
  afterAll(async () => {
    if (worker) await stopWorker(worker);
    await compute?.close();
    redis?.child.kill('SIGTERM');
    await redis?.exited;
  });

  it('while jobs are queued: the reconciler dispatches them again; all complete, none twice', async () => {
    worker = spawnWorker(compute);
    await workersRegistered(compute, 1, [worker]);
    const jobs = await Promise.all(
      Array.from({ length: 30 }, () => submit(compute, editor, 'noop', { duration_ms: 200 })),
    );
    await eventually('a few jobs to finish', async () => {
      const done = (await allJobs(compute)).filter((job) => job.state === 'succeeded');
      return done.length >= 4 ? true : undefined;
    });

    const client = new Redis(url);
    try {
      // Not DBSIZE afterwards: a worker's heartbeat may land in between.
      expect(await client.flushall()).toBe('OK');
    } finally {
      client.disconnect();
    }
    const queuedAtFlush = (await allJobs(compute)).filter((job) => job.state === 'queued').length;
    expect(queuedAtFlush).toBeGreaterThan(0);

    const finished = await eventually(
      'all 30 jobs to succeed after the flush',
      async () => {
        const all = await allJobs(compute);
        return all.every((job) => job.state === 'succeeded') ? all : undefined;
      },
      30_000,
    );
    expect(finished.map((job) => job.id).sort()).toEqual(jobs.map((job) => job.id).sort());
    expect(finished.every((job) => job.attempts === 1)).toBe(true);
  });
});
