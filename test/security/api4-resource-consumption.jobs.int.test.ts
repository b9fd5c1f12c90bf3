import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './stack.ts';
import {
  call,
  eventually,
  JOBS,
  jobCount,
  SCHEDULES,
  UNLIMITED_RATES,
  type Answer,
  type JobView,
} from './jobs.fixtures.ts';

const EDITOR_QUOTA = 5;
const ADMIN_QUOTA = 8;
const SCHEDULES_EACH = 3;

interface QuotaProblem {
  status: number;
  detail: string;
  quota: number;
  count: number;
}

const noop = { type: 'noop', params: {} };
const batch = (size: number) => ({ jobs: Array.from({ length: size }, () => noop) });

/** The answer must be the quota's 429 problem+json, naming the quota and the caller's count. */
function expectQuota(answer: Answer<unknown>, quota: number, count: number): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(429);
  expect(answer.type).toMatch(/^application\/problem\+json/);
  const problem = answer.body as QuotaProblem;
  expect(problem).toMatchObject({ status: 429, quota, count });
  expect(problem.detail).toContain(`at most ${quota}`);
}

/**
 * API4:2023 Unrestricted Resource Consumption — queued and running jobs per user are capped by
 * role, batches count every item and are refused whole, and parallel calls cannot both slip under
 * a cap that only one of them fits.
 */
describe('job quotas per user, sized by role', () => {
  let stack: Stack;
  const signedIn = async (role: 'editor' | 'admin') => (await stack.signedIn(role)).token;

  beforeAll(async () => {
    stack = await startStack({
      ...UNLIMITED_RATES,
      JOB_QUOTA_EDITOR: String(EDITOR_QUOTA),
      JOB_QUOTA_ADMIN: String(ADMIN_QUOTA),
      SCHEDULES_PER_OWNER: String(SCHEDULES_EACH),
      SCHEDULE_MIN_INTERVAL_S: '1',
      SCHEDULER_INTERVAL_MS: '200',
      // No worker takes these jobs: they stay queued, each counting against its owner's quota.
      WORKER_QUEUES: 'parked',
    });
  });
  afterAll(() => stack?.close());

  it('refuses an editor’s job past the editors’ quota with 429 naming the quota and the count', async () => {
    const editor = await signedIn('editor');
    for (let i = 0; i < EDITOR_QUOTA; i++)
      expect((await call(stack, editor, 'POST', JOBS, noop)).status).toBe(201);
    expectQuota(await call(stack, editor, 'POST', JOBS, noop), EDITOR_QUOTA, EDITOR_QUOTA);
    expect(await jobCount(stack, editor)).toBe(EDITOR_QUOTA);
  });

  it('counts every item of a batch, and refuses a batch that would pass the quota whole', async () => {
    const editor = await signedIn('editor');
    expectQuota(await call(stack, editor, 'POST', `${JOBS}/batch`, batch(EDITOR_QUOTA + 1)), EDITOR_QUOTA, 0);
    expect(await jobCount(stack, editor)).toBe(0);
    expect((await call(stack, editor, 'POST', `${JOBS}/batch`, batch(EDITOR_QUOTA))).status).toBe(201);
    expectQuota(await call(stack, editor, 'POST', `${JOBS}/batch`, batch(1)), EDITOR_QUOTA, EDITOR_QUOTA);
    expect(await jobCount(stack, editor)).toBe(EDITOR_QUOTA);
  });

  it('lets only one of eight parallel batches through when the quota fits only one', async () => {
    const editor = await signedIn('editor');
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => call(stack, editor, 'POST', `${JOBS}/batch`, batch(3))),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 429, 429, 429, 429, 429, 429, 429]);
    expect(await jobCount(stack, editor)).toBe(3);
  });

  it('lets exactly the quota through of twelve parallel single submissions', async () => {
    const editor = await signedIn('editor');
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => call(stack, editor, 'POST', JOBS, noop)),
    );
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(EDITOR_QUOTA);
    for (const answer of answers.filter((a) => a.status !== 201))
      expectQuota(answer, EDITOR_QUOTA, EDITOR_QUOTA);
    expect(await jobCount(stack, editor)).toBe(EDITOR_QUOTA);
  });

  it('gives admins the larger admins’ quota', async () => {
    const admin = await signedIn('admin');
    expect((await call(stack, admin, 'POST', `${JOBS}/batch`, batch(ADMIN_QUOTA))).status).toBe(201);
    expectQuota(await call(stack, admin, 'POST', JOBS, noop), ADMIN_QUOTA, ADMIN_QUOTA);
  });

  it('frees a place when a job finishes, and counts a retried job against the quota again', async () => {
    const editor = await signedIn('editor');
    const jobs = (
      await call<{ jobs: JobView[] }>(stack, editor, 'POST', `${JOBS}/batch`, batch(EDITOR_QUOTA))
    ).body.jobs;
    const cancelled = jobs[0]!;
    expect((await call(stack, editor, 'POST', `${JOBS}/${cancelled.id}/cancel`)).status).toBe(200);
    expect((await call(stack, editor, 'POST', JOBS, noop)).status).toBe(201);

    expectQuota(
      await call(stack, editor, 'POST', `${JOBS}/${cancelled.id}/retry`),
      EDITOR_QUOTA,
      EDITOR_QUOTA,
    );
    const still = await call<JobView>(stack, editor, 'GET', `${JOBS}/${cancelled.id}`);
    expect(still.body.state).toBe('cancelled');
  });

  it('lets only the allowed number of thirty parallel schedule creations through', async () => {
    const editor = await signedIn('editor');
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        call(stack, editor, 'POST', SCHEDULES, { name: `s${i}`, cron: '0 * * * *', job: noop }),
      ),
    );
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(SCHEDULES_EACH);
    for (const answer of answers.filter((a) => a.status !== 201)) {
      expect(answer.status).toBe(409);
      expect((answer.body as { detail: string }).detail).toContain(`${SCHEDULES_EACH} schedules`);
    }
    const mine = await call<{ total: number }>(stack, editor, 'GET', `${SCHEDULES}?owner=me`);
    expect(mine.body.total).toBe(SCHEDULES_EACH);
  });

  it('skips a schedule’s tick while its owner is at the quota, and says why on the schedule', async () => {
    const editor = await signedIn('editor');
    expect((await call(stack, editor, 'POST', `${JOBS}/batch`, batch(EDITOR_QUOTA))).status).toBe(201);
    const created = await call<{ id: string }>(stack, editor, 'POST', SCHEDULES, {
      name: 'every second',
      cron: '* * * * * *',
      job: noop,
    });
    expect(created.status).toBe(201);
    const skipped = await eventually('a tick to pass', async () => {
      const schedule = await call<{ last_run_at: string | null; last_skip_reason: string | null }>(
        stack,
        editor,
        'GET',
        `${SCHEDULES}/${created.body.id}`,
      );
      return schedule.body.last_run_at ? schedule.body : undefined;
    });
    expect(skipped.last_skip_reason).toContain(`at most ${EDITOR_QUOTA}`);
    expect(await jobCount(stack, editor)).toBe(EDITOR_QUOTA);
    stack.assertAlive();
  });
});
