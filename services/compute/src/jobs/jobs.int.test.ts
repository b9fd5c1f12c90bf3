import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Problem } from '@datalab/contracts';
import { callAs, person } from '../../../../test/internal.ts';
import type { Spawned } from '../../../../test/processes.ts';
import {
  JOBS,
  startCompute,
  stopWorker,
  spawnWorker,
  submit,
  waitForJob,
  workersRegistered,
  type Compute,
} from '../compute.test-fixtures.ts';
import type { Job, JobBatch, JobList, JobLogs } from './jobs.schemas.ts';

// With Redis the jobs run on a `datalab worker` process; without, inside the compute-service.
const distributed = Boolean(inject('redisUrl'));
let compute: Compute;
let worker: Spawned | undefined;
const editor = person('editor');

beforeAll(async () => {
  compute = await startCompute({
    // One job at a time: a cancelled job must free its worker for the next one to run.
    WORKER_CONCURRENCY: '1',
    JOB_RETRY_BACKOFF_MS: '100',
    JOB_LEASE_MS: '3000',
    RECONCILE_INTERVAL_MS: '500',
  });
  if (distributed) {
    worker = spawnWorker(compute);
    await workersRegistered(compute, 1, [worker]);
  }
});
afterAll(async () => {
  if (worker) expect((await stopWorker(worker)).code).toBe(0);
  await compute?.close();
});

describe('submitting a job', () => {
  it('runs a noop to `succeeded` with its result, full progress and one attempt', async () => {
    const job = await submit(compute, editor, 'noop', { duration_ms: 300 });
    expect(job).toMatchObject({ type: 'noop', queue: 'default', state: 'queued', owner_id: editor.userId });

    const done = await waitForJob(compute, editor, job.id, (j) => j.state === 'succeeded');
    expect(done).toMatchObject({ result: { slept_ms: 300 }, progress: 100, attempts: 1, error: null });
    expect(done.started_at).not.toBeNull();
    expect(Date.parse(done.finished_at!)).toBeGreaterThanOrEqual(Date.parse(done.started_at!));
  });

  it('refuses params that do not fit the type’s schema with 400 naming the field', async () => {
    const answer = await compute.call<Problem>(editor, 'POST', JOBS, {
      type: 'noop',
      params: { duration_ms: -5 },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.map((e) => e.field)).toEqual(['/body/params/duration_ms']);

    const unknownKey = await compute.call<Problem>(editor, 'POST', JOBS, {
      type: 'noop',
      params: { sleep: 1 },
    });
    expect(unknownKey.status).toBe(400);
    expect(unknownKey.body.errors?.map((e) => e.field)).toEqual(['/body/params/sleep']);
  });

  it('refuses an unknown job type with 400 naming /body/type, and viewers with 403', async () => {
    const unknown = await compute.call<Problem>(editor, 'POST', JOBS, { type: 'teleport', params: {} });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors?.map((e) => e.field)).toEqual(['/body/type']);

    const viewer = await compute.call<Problem>(person('viewer'), 'POST', JOBS, { type: 'noop' });
    expect(viewer.status).toBe(403);
  });
});

describe('submitting many jobs at once', () => {
  it('queues them all in order, and each runs', async () => {
    const owner = person('editor');
    const answer = await compute.call<JobBatch>(owner, 'POST', `${JOBS}/batch`, {
      jobs: [{ type: 'noop' }, { type: 'noop', params: { duration_ms: 50 }, priority: 75 }],
    });
    expect(answer.status).toBe(201);
    expect(answer.body.jobs.map((j) => [j.params, j.priority])).toEqual([
      [{}, 50],
      [{ duration_ms: 50 }, 75],
    ]);
    for (const job of answer.body.jobs)
      await waitForJob(compute, owner, job.id, (j) => j.state === 'succeeded');
  });

  it('writes none when one is refused, naming it by its index (400)', async () => {
    const owner = person('editor');
    const answer = await compute.call<Problem>(owner, 'POST', `${JOBS}/batch`, {
      jobs: [{ type: 'noop' }, { type: 'noop', params: { duration_ms: -1 } }],
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.map((e) => e.field)).toEqual(['/body/jobs/1/params/duration_ms']);
    expect((await compute.call<JobList>(owner, 'GET', JOBS)).body.total).toBe(0);
  });
});

describe('ownership', () => {
  it('hides one editor’s job from another (404 everywhere), but not from an admin', async () => {
    const job = await submit(compute, editor, 'noop');
    const other = person('editor');
    for (const [method, path] of [
      ['GET', `${JOBS}/${job.id}`],
      ['GET', `${JOBS}/${job.id}/logs`],
      ['GET', `${JOBS}/${job.id}/events`],
      ['POST', `${JOBS}/${job.id}/cancel`],
      ['POST', `${JOBS}/${job.id}/retry`],
      ['DELETE', `${JOBS}/${job.id}`],
    ] as const)
      expect((await compute.call(other, method, path)).status, `${method} ${path}`).toBe(404);
    const theirs = await compute.call<JobList>(other, 'GET', JOBS);
    expect(theirs.body.jobs.map((j) => j.id)).not.toContain(job.id);

    expect((await compute.call<Job>(person('admin'), 'GET', `${JOBS}/${job.id}`)).status).toBe(200);
  });

  it('lists my own jobs, filtered by state and type, newest first, with a total', async () => {
    const owner = person('editor');
    const first = await submit(compute, owner, 'noop');
    const second = await submit(compute, owner, 'noop');
    await waitForJob(compute, owner, second.id, (j) => j.state === 'succeeded');
    await waitForJob(compute, owner, first.id, (j) => j.state === 'succeeded');

    const list = await compute.call<JobList>(owner, 'GET', `${JOBS}?state=succeeded&type=noop&limit=1`);
    expect(list.body.total).toBe(2);
    expect(list.body.jobs.map((j) => j.id)).toEqual([second.id]);
    expect((await compute.call<JobList>(owner, 'GET', `${JOBS}?state=queued`)).body.total).toBe(0);
  });
});

describe('cancelling', () => {
  it('cancels a running long job within 5 s: no result written, and its worker is free again', async () => {
    const long = await submit(compute, editor, 'noop', { duration_ms: 60_000 });
    await waitForJob(compute, editor, long.id, (j) => j.state === 'running');

    const started = Date.now();
    const cancelled = await compute.call<Job>(editor, 'POST', `${JOBS}/${long.id}/cancel`);
    expect(cancelled.body.state).toBe('cancelled');
    // The only worker slot frees when the handler is aborted: the next job then runs.
    const next = await submit(compute, editor, 'noop');
    await waitForJob(compute, editor, next.id, (j) => j.state === 'succeeded', 5000);
    expect(Date.now() - started).toBeLessThan(5000);

    const after = (await compute.call<Job>(editor, 'GET', `${JOBS}/${long.id}`)).body;
    expect(after).toMatchObject({ state: 'cancelled', result: null });
  });

  it('cancels a queued job before it starts, and answers 409 for a finished one', async () => {
    const owner = person('editor');
    const blocker = await submit(compute, owner, 'noop', { duration_ms: 60_000 });
    await waitForJob(compute, owner, blocker.id, (j) => j.state === 'running');
    const waiting = await submit(compute, owner, 'noop');

    const cancelled = await compute.call<Job>(owner, 'POST', `${JOBS}/${waiting.id}/cancel`);
    expect(cancelled.body).toMatchObject({ state: 'cancelled', attempts: 0 });
    await compute.call(owner, 'POST', `${JOBS}/${blocker.id}/cancel`);
    expect((await compute.call(owner, 'POST', `${JOBS}/${waiting.id}/cancel`)).status).toBe(409);
    expect((await compute.call<Job>(owner, 'GET', `${JOBS}/${waiting.id}`)).body.started_at).toBeNull();
  });
});

describe('a failing job', () => {
  it('is retried with backoff, then dead (listed), and runs again when retried', async () => {
    const owner = person('editor');
    const job = await submit(compute, owner, 'noop', { fail_attempts: 3 });

    const dead = await waitForJob(compute, owner, job.id, (j) => j.state === 'dead');
    expect(dead).toMatchObject({ attempts: 3, max_attempts: 3, result: null });
    expect(dead.error).toMatchObject({ kind: 'error', attempt: 3 });
    expect(dead.error?.message).toContain('attempt 3 fails as asked');
    const listed = await compute.call<JobList>(owner, 'GET', `${JOBS}?state=dead`);
    expect(listed.body.jobs.map((j) => j.id)).toEqual([job.id]);

    const retried = await compute.call<Job>(owner, 'POST', `${JOBS}/${job.id}/retry`);
    expect(retried.body).toMatchObject({ state: 'queued', error: null, max_attempts: 6 });
    const done = await waitForJob(compute, owner, job.id, (j) => j.state === 'succeeded');
    expect(done).toMatchObject({ attempts: 4, result: { slept_ms: 0 } });

    const { logs } = (await compute.call<JobLogs>(owner, 'GET', `${JOBS}/${job.id}/logs`)).body;
    expect(logs.map((line) => line.message)).toEqual([
      expect.stringMatching(/^attempt 1 failed: .*; retrying in 0\.1 s$/),
      expect.stringMatching(/^attempt 2 failed: .*; retrying in 0\.2 s$/),
      expect.stringMatching(/^attempt 3 failed: .*; no attempts left \(3\)$/),
      `retried by ${owner.email}`,
    ]);
  });

  it('cannot be retried while it runs or after it succeeded (409)', async () => {
    const job = await submit(compute, editor, 'noop');
    await waitForJob(compute, editor, job.id, (j) => j.state === 'succeeded');
    expect((await compute.call(editor, 'POST', `${JOBS}/${job.id}/retry`)).status).toBe(409);
  });
});

describe('deleting', () => {
  it('deletes a finished job with its logs, and refuses a running one with 409', async () => {
    const owner = person('editor');
    const running = await submit(compute, owner, 'noop', { duration_ms: 60_000 });
    await waitForJob(compute, owner, running.id, (j) => j.state === 'running');
    expect((await compute.call(owner, 'DELETE', `${JOBS}/${running.id}`)).status).toBe(409);

    await compute.call(owner, 'POST', `${JOBS}/${running.id}/cancel`);
    expect((await compute.call(owner, 'DELETE', `${JOBS}/${running.id}`)).status).toBe(204);
    expect((await compute.call(owner, 'GET', `${JOBS}/${running.id}`)).status).toBe(404);
  });
});

/** Reads a whole Server-Sent Events stream into its events. */
async function readEvents(response: Response): Promise<{ event: string; data: Job }[]> {
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('event:'))
    .map((block) => {
      const [eventLine = '', dataLine = ''] = block.split('\n');
      return {
        event: eventLine.slice('event: '.length),
        data: JSON.parse(dataLine.slice('data: '.length)) as Job,
      };
    });
}

describe('watching a job', () => {
  it('streams its progress and final state as Server-Sent Events, then ends', async () => {
    const job = await submit(compute, editor, 'noop', { duration_ms: 2000 });
    const response = await callAs(compute.platform, compute.service, editor, `${JOBS}/${job.id}/events`);
    expect(response.headers.get('content-type')).toContain('text/event-stream');

    const events = await readEvents(response);
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data.progress);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(events.map((e) => e.data.state)).toContain('running');
    expect(events.at(-1)).toMatchObject({ event: 'state', data: { state: 'succeeded', progress: 100 } });
  });

  it('ends at once with the final state of a job that already ended', async () => {
    const job = await submit(compute, editor, 'noop');
    await waitForJob(compute, editor, job.id, (j) => j.state === 'succeeded');
    const response = await callAs(compute.platform, compute.service, editor, `${JOBS}/${job.id}/events`);
    expect(await readEvents(response)).toEqual([
      {
        event: 'state',
        data: expect.objectContaining({ state: 'succeeded', result: { slept_ms: 0 } }) as Job,
      },
    ]);
  });
});

describe('metrics', () => {
  it('show queue depth by state, oldest queued age and live workers', async () => {
    const text = await (await fetch(`${compute.service.url}/metrics`)).text();
    expect(text).toMatch(/compute_jobs\{[^}]*state="succeeded"[^}]*\} [1-9]/);
    expect(text).toMatch(/compute_jobs\{[^}]*state="dead"[^}]*\} 0/);
    expect(text).toMatch(/compute_oldest_queued_job_age_seconds\{[^}]*\} /);
    expect(text).toMatch(/compute_workers_alive\{[^}]*\} 1/);
    if (!distributed) expect(text).toMatch(/compute_job_duration_seconds_count\{[^}]*outcome="succeeded"/);
  });
});
