import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, expectProblem, type Problem, type Stack } from './stack.ts';
import { apiKey, call, JOBS, jobCount, SCHEDULES, UNLIMITED_RATES, type JobView } from './jobs.fixtures.ts';

const EDITOR_MAX = 70;

/** The fields a problem names as at fault. */
const fieldsOf = (problem: Problem): string[] =>
  ((problem.errors ?? []) as { field: string }[]).map((error) => error.field);

/** The problem document of a refused call, checked to be problem+json with this status. */
async function refused(
  stack: Stack,
  token: string,
  method: string,
  path: string,
  body: unknown,
  status: number,
) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return expectProblem(response, status);
}

/**
 * API3:2023 Broken Object Property Level Authorization — a job's priority is a property only some
 * roles may set high: editors up to their cap, admins to 100; the owner is never the caller's to set.
 */
describe('job properties a caller may not set', () => {
  let stack: Stack;
  let editor: string;
  let admin: string;

  beforeAll(async () => {
    stack = await startStack({
      ...UNLIMITED_RATES,
      JOB_PRIORITY_MAX_EDITOR: String(EDITOR_MAX),
      // Nothing runs: these tests look at what was accepted, not at what it did.
      WORKER_QUEUES: 'parked',
    });
    editor = (await stack.signedIn('editor')).token;
    admin = (await stack.signedIn('admin')).token;
  });
  afterAll(() => stack?.close());

  it('refuses an editor’s job above the editors’ priority cap with 403 naming the cap, and writes nothing', async () => {
    const problem = await refused(stack, editor, 'POST', JOBS, { type: 'noop', priority: 100 }, 403);
    expect(problem.detail).toContain(`at most ${EDITOR_MAX}`);
    expect(fieldsOf(problem)).toEqual(['/body/priority']);
    expect(problem.priority_max).toBe(EDITOR_MAX);
    expect(await jobCount(stack, editor)).toBe(0);

    const atCap = await call<JobView>(stack, editor, 'POST', JOBS, { type: 'noop', priority: EDITOR_MAX });
    expect(atCap.status).toBe(201);
    expect(atCap.body.priority).toBe(EDITOR_MAX);
  });

  it('refuses a whole batch when one item is above the cap, naming that item, and queues none of it', async () => {
    const before = await jobCount(stack, editor);
    const problem = await refused(
      stack,
      editor,
      'POST',
      `${JOBS}/batch`,
      {
        jobs: [
          { type: 'noop', priority: 10 },
          { type: 'noop', priority: EDITOR_MAX + 1 },
        ],
      },
      403,
    );
    expect(fieldsOf(problem)[0]).toBe('/body/jobs/1/priority');
    expect(await jobCount(stack, editor)).toBe(before);
  });

  it('lets an admin set priority 100, but holds an admin’s editor-role API key to the editors’ cap', async () => {
    const top = await call<JobView>(stack, admin, 'POST', JOBS, { type: 'noop', priority: 100 });
    expect(top.status).toBe(201);
    expect(top.body.priority).toBe(100);

    const { key } = await apiKey(stack, admin, 'editor');
    const problem = await refused(stack, key, 'POST', JOBS, { type: 'noop', priority: 100 }, 403);
    expect(problem.detail).toContain(`at most ${EDITOR_MAX}`);
  });

  it('holds a schedule’s job template to the same cap, and creates no schedule', async () => {
    const problem = await refused(
      stack,
      editor,
      'POST',
      SCHEDULES,
      { name: 'urgent', cron: '0 * * * *', job: { type: 'noop', priority: 99 } },
      403,
    );
    expect(fieldsOf(problem)[0]).toBe('/body/job/priority');
    const mine = await call<{ total: number }>(stack, editor, 'GET', `${SCHEDULES}?owner=me`);
    expect(mine.body.total).toBe(0);
  });

  it('never takes the owner from the body: a job naming another owner is refused', async () => {
    const before = await jobCount(stack, editor);
    const problem = await refused(
      stack,
      editor,
      'POST',
      JOBS,
      { type: 'noop', owner_id: '00000000-0000-4000-8000-000000000000' },
      400,
    );
    expect(problem.detail).toContain('additional properties');
    expect(await jobCount(stack, editor)).toBe(before);
    stack.assertAlive();
  });
});
