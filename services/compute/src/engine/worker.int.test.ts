import { setTimeout as sleep } from 'node:timers/promises';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectDatabase,
  createMemoryEvents,
  createServiceMetrics,
  migrate,
  type Database,
} from '@datalab/platform';
import { silentLogger } from '../../../../test/helpers.ts';
import { person } from '../../../../test/internal.ts';
import { eventually, freshDatabase } from '../compute.test-fixtures.ts';
import { computeService } from '../definition.ts';
import { defineJobType, PermanentJobError, type JobType } from '@datalab/platform';
import { noopJob } from '../job-types/noop.ts';
import { createJobTypeRegistry } from '../job-types/registry.ts';
import { submittedRights } from '../owners/owner-rights.ts';
import { createJobsRepository, type JobRow } from '../jobs/jobs.repository.ts';
import { createInProcessDispatcher } from './in-process-dispatcher.ts';
import { createWorkerMetrics } from './engine.metrics.ts';
import { reconcileOnce } from './reconciler.ts';
import { startWorker, type RunningWorker } from './worker.ts';

/** Job types made for these tests only: they show what the engine does with slow and hopeless handlers. */
const slowType = defineJobType({
  type: 'test-ignores-time',
  queue: 'default',
  params: Type.Object({}),
  timeoutMs: 300,
  maxAttempts: 2,
  handler: async ({ signal }) => {
    await sleep(60_000, undefined, { signal });
  },
});
const hopelessType = defineJobType({
  type: 'test-hopeless',
  queue: 'default',
  params: Type.Object({}),
  timeoutMs: 10_000,
  maxAttempts: 5,
  handler: async () => {
    throw new PermanentJobError('the dataset does not exist');
  },
});

let database: { url: string; drop: () => Promise<void> };
let db: Database;
let worker: RunningWorker;
const dispatcher = createInProcessDispatcher(() => undefined);
const owner = person('editor');

/** A job in PostgreSQL only, as after a restart of embedded mode (the queue lived in memory). */
async function insert(type: JobType, priority = 50, params: Record<string, unknown> = {}): Promise<JobRow> {
  return createJobsRepository(db.pool).insert({
    owner,
    type: type.type,
    queue: type.queue,
    params,
    priority,
    maxAttempts: type.maxAttempts,
    timeoutMs: type.timeoutMs,
  });
}

async function enqueue(type: JobType, priority = 50, params: Record<string, unknown> = {}): Promise<JobRow> {
  const row = await insert(type, priority, params);
  await dispatcher.dispatch([{ id: row.id, queue: row.queue, priority, runAfter: row.run_after }]);
  return row;
}

async function settled(id: string): Promise<JobRow> {
  return eventually(`job ${id} to end`, async () => {
    const row = await createJobsRepository(db.pool).findById(id);
    return row && ['succeeded', 'failed', 'dead', 'cancelled'].includes(row.state) ? row : undefined;
  });
}

beforeAll(async () => {
  database = await freshDatabase();
  db = await connectDatabase({
    url: database.url,
    poolSize: 5,
    connectTimeoutMs: 5000,
    applicationName: 'compute-worker-test',
    logger: silentLogger,
  });
  await migrate(db.pool, {
    schema: computeService.schema,
    directory: computeService.migrationsDir,
    logger: silentLogger,
  });
  worker = await startWorker({
    pool: db.pool,
    dispatcher,
    events: createMemoryEvents(),
    types: createJobTypeRegistry([noopJob, slowType, hopelessType]),
    logger: silentLogger,
    metrics: createWorkerMetrics(createServiceMetrics('compute-test').registry),
    owners: submittedRights,
    queues: [],
    concurrency: 1,
    leaseMs: 3000,
    retryBackoffMs: 50,
  });
});
afterAll(async () => {
  await worker?.stop(0);
  await dispatcher.close();
  await db?.close();
  await database?.drop();
});

describe('a worker', () => {
  it('aborts an attempt that outlives its type’s timeout, and the job dies after its last attempt', async () => {
    const job = await settled((await enqueue(slowType)).id);
    expect(job).toMatchObject({ state: 'dead', attempts: 2, result: null });
    expect(job.error).toEqual({ message: 'timed out after 300 ms', kind: 'timeout', attempt: 2 });
  });

  it('does not retry a failure the handler calls permanent: `failed` after one attempt', async () => {
    const job = await settled((await enqueue(hopelessType)).id);
    expect(job).toMatchObject({ state: 'failed', attempts: 1 });
    expect(job.error).toMatchObject({ message: 'the dataset does not exist', kind: 'error' });
  });

  it('fails a job whose type it does not know, without running anything', async () => {
    const unknown = { ...hopelessType, type: 'test-unknown-type' };
    const job = await settled((await enqueue(unknown)).id);
    expect(job).toMatchObject({ state: 'failed', attempts: 1 });
    expect(job.error?.message).toBe('no worker here knows the job type "test-unknown-type"');
  });

  it('runs waiting jobs by priority, higher first, and equal priorities in order of arrival', async () => {
    const blocker = await enqueue(noopJob, 50, { duration_ms: 500 });
    await eventually('the blocker to run', async () =>
      (await createJobsRepository(db.pool).findById(blocker.id))?.state === 'running' ? true : undefined,
    );
    const low = await enqueue(noopJob, 10);
    const firstHigh = await enqueue(noopJob, 90);
    const secondHigh = await enqueue(noopJob, 90);

    const ended = await Promise.all([low, firstHigh, secondHigh].map((job) => settled(job.id)));
    const order = [...ended]
      .sort((a, b) => a.started_at!.getTime() - b.started_at!.getTime())
      .map((j) => j.id);
    expect(order).toEqual([firstHigh.id, secondHigh.id, low.id]);
  });
});

describe('the reconciler', () => {
  it('dispatches queued jobs the queue does not hold (a restart lost it), and the worker runs them', async () => {
    const lost = await insert(noopJob);
    const report = await reconcileOnce(db.pool, dispatcher);
    expect(report.ran).toBe(true);
    expect(report.redispatched).toBeGreaterThanOrEqual(1);
    expect(await settled(lost.id)).toMatchObject({ state: 'succeeded', attempts: 1 });
  });

  it('requeues a running job whose lease ran out (its worker died), counting the lost attempt', async () => {
    const orphan = await insert(noopJob);
    await db.pool.query(
      `UPDATE compute.jobs SET state = 'running', attempts = 1, worker_id = 'gone-worker',
         lease_until = now() - interval '1 second' WHERE id = $1`,
      [orphan.id],
    );
    expect((await reconcileOnce(db.pool, dispatcher)).requeued).toBe(1);
    expect(await settled(orphan.id)).toMatchObject({ state: 'succeeded', attempts: 2 });
    const logs = await createJobsRepository(db.pool).logs(orphan.id, 10, 0);
    expect(logs.map((line) => line.message)).toEqual([
      'worker gone-worker stopped renewing its lease: queued again',
    ]);
  });

  it('passes when another instance holds its lock, doing nothing', async () => {
    const holder = await db.pool.connect();
    try {
      await holder.query("SELECT pg_advisory_lock(hashtext('datalab.compute.reconciler'))");
      expect(await reconcileOnce(db.pool, dispatcher)).toEqual({
        ran: false,
        requeued: 0,
        dead: 0,
        redispatched: 0,
      });
    } finally {
      await holder.query("SELECT pg_advisory_unlock(hashtext('datalab.compute.reconciler'))");
      holder.release();
    }
  });
});
