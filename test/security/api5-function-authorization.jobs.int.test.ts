import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callWithTarget } from '../gateway.ts';
import { startStack, bearer, expectProblem, type Stack } from './stack.ts';
import {
  apiKey,
  call,
  changeUser,
  eventually,
  finished,
  internalToken,
  JOBS,
  SCHEDULES,
  UNLIMITED_RATES,
  uploadCsv,
  type JobView,
} from './jobs.fixtures.ts';

interface ScheduleView {
  id: string;
  paused: boolean;
  paused_reason: string | null;
  last_job_id: string | null;
}

const PRINCIPALS = '/internal/v1/principals';
/** A gap longer than the owner check may remember a user's status for (it promises a second or two). */
const STATUS_SETTLES_MS = 2500;
const RETRY_BACKOFF_MS = 4000;

/**
 * API5:2023 Broken Function Level Authorization — what runs later runs with the rights of the
 * moment it runs: a demoted owner's schedule loses what the old role allowed, a disabled owner's
 * schedules pause and their jobs fail unrun, and so do the jobs of a revoked API key. The endpoint
 * compute asks this of is for DataLab's services only. And nothing of another user's jobs or
 * schedules can be seen or worked from outside.
 */
describe('jobs and schedules run with their owner’s rights of the moment', () => {
  let stack: Stack;
  let root: string;
  let secret: string;

  beforeAll(async () => {
    stack = await startStack({
      ...UNLIMITED_RATES,
      SCHEDULE_MIN_INTERVAL_S: '1',
      SCHEDULER_INTERVAL_MS: '200',
      JOB_RETRY_BACKOFF_MS: String(RETRY_BACKOFF_MS),
    });
    root = (await stack.signedIn('admin')).token;
    // A private dataset of an editor: only its owner and admins may read it.
    const owner = (await stack.signedIn('editor')).token;
    secret = (await uploadCsv(stack, owner, `secret_${randomBytes(4).toString('hex')}`, 'id,salary\n1,100\n'))
      .name;
  });
  afterAll(() => stack?.close());

  /** A new schedule of the caller's that submits `job` every two seconds; its path. */
  async function ticking(token: string, job: object): Promise<string> {
    const created = await call<ScheduleView>(stack, token, 'POST', SCHEDULES, {
      name: 'every two seconds',
      cron: '*/2 * * * * *',
      job,
    });
    expect(created.status).toBe(201);
    return `${SCHEDULES}/${created.body.id}`;
  }

  /** The schedule once it has paused itself. */
  const paused = (path: string): Promise<ScheduleView> =>
    eventually('the schedule to pause', async () => {
      const schedule = (await call<ScheduleView>(stack, root, 'GET', path)).body;
      return schedule.paused ? schedule : undefined;
    });

  /** The owner's jobs created after `since`, oldest first. */
  async function jobsSince(token: string, since: number): Promise<JobView[]> {
    const list = await call<{ jobs: JobView[] }>(stack, token, 'GET', `${JOBS}?owner=me&limit=500`);
    return list.body.jobs.filter((job) => Date.parse(job.created_at) > since).reverse();
  }

  it('runs an admin’s schedule with editor rights once the admin is demoted: the admin-only read fails', async () => {
    const boss = await stack.signedIn('admin');
    const path = await ticking(boss.token, { type: 'sql', params: { sql: `SELECT * FROM ${secret}` } });
    const asAdmin = await eventually('a tick run as admin', async () => {
      const [job] = await jobsSince(boss.token, 0);
      return job && (await finished(stack, boss.token, job.id));
    });
    expect(asAdmin.state, JSON.stringify(asAdmin.error)).toBe('succeeded');

    await changeUser(stack, root, boss.user.id, { role: 'editor' });
    const demotedAt = Date.now() + STATUS_SETTLES_MS;
    const asEditor = await eventually(
      'a tick after the demotion',
      async () => {
        const [job] = await jobsSince(boss.token, demotedAt);
        return job && (await finished(stack, boss.token, job.id));
      },
      60_000,
    );
    expect(asEditor.state).toBe('failed');
    expect(asEditor.error?.message).toContain(`"${secret}" not found`);
    expect(asEditor.result).toBeNull();
    expect((await call(stack, root, 'DELETE', path)).status).toBe(204);
  });

  it('pauses a disabled owner’s schedule, shows why, and lets it resume only once the owner is enabled again', async () => {
    const boss = await stack.signedIn('admin');
    const path = await ticking(boss.token, { type: 'noop' });
    await changeUser(stack, root, boss.user.id, { disabled: true });
    expect((await paused(path)).paused_reason).toContain('disabled');

    const early = await call(stack, root, 'POST', `${path}/resume`);
    expect(early.status).toBe(409);
    expect((early.body as { detail: string }).detail).toContain('disabled');

    await changeUser(stack, root, boss.user.id, { disabled: false });
    const owner = await stack.login(boss.user);
    const resumed = await call<ScheduleView>(stack, owner, 'POST', `${path}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ paused: false, paused_reason: null });
    expect((await call(stack, owner, 'POST', `${path}/pause`)).status).toBe(200);
    expect((await call(stack, root, 'POST', `${path}/resume`)).status).toBe(200);
    expect((await call(stack, root, 'DELETE', path)).status).toBe(204);
  });

  it('pauses the schedule of an owner demoted to viewer, since viewers cannot run jobs', async () => {
    const owner = await stack.signedIn('editor');
    const path = await ticking(owner.token, { type: 'noop' });
    await changeUser(stack, root, owner.user.id, { role: 'viewer' });
    expect((await paused(path)).paused_reason).toContain('viewer');
    expect((await call(stack, root, 'DELETE', path)).status).toBe(204);
  });

  /** A job whose first attempt fails, so its second starts after whatever the test does meanwhile. */
  async function retryingJob(token: string): Promise<JobView> {
    const job = await call<JobView>(stack, token, 'POST', JOBS, {
      type: 'noop',
      params: { fail_attempts: 1 },
    });
    expect(job.status).toBe(201);
    await eventually('the first attempt to fail', async () => {
      const now = (await call<JobView & { attempts: number }>(stack, token, 'GET', `${JOBS}/${job.body.id}`))
        .body;
      return now.attempts === 1 && now.state === 'queued' ? now : undefined;
    });
    return job.body;
  }

  it('fails a job whose owner was disabled before it ran again, without running it', async () => {
    const owner = await stack.signedIn('editor');
    const job = await retryingJob(owner.token);
    await changeUser(stack, root, owner.user.id, { disabled: true });
    const after = await finished(stack, root, job.id);
    expect(after.state).toBe('failed');
    expect(after.error?.message).toContain('disabled');
    expect(after.result).toBeNull();
  });

  it('fails a job submitted with an API key once the key’s user is disabled', async () => {
    const owner = await stack.signedIn('editor');
    const { key } = await apiKey(stack, owner.token);
    const job = await retryingJob(key);
    await changeUser(stack, root, owner.user.id, { disabled: true });
    const after = await finished(stack, root, job.id);
    expect(after.state).toBe('failed');
    expect(after.error?.message).toContain('disabled');
  });

  it('fails a job submitted with an API key that was revoked before it ran again', async () => {
    const owner = await stack.signedIn('editor');
    const { id, key } = await apiKey(stack, owner.token);
    const job = await retryingJob(key);
    expect((await call(stack, owner.token, 'DELETE', `/api/v1/auth/api-keys/${id}`)).status).toBe(200);
    const after = await finished(stack, owner.token, job.id);
    expect(after.state).toBe('failed');
    expect(after.error?.message).toContain('revoked');
  });
});

describe('the gateway’s principals endpoint, which compute asks who a job runs as', () => {
  let stack: Stack;
  let admin: { user: { id: string; email: string }; token: string };

  beforeAll(async () => {
    stack = await startStack(UNLIMITED_RATES);
    admin = await stack.signedIn('admin');
  });
  afterAll(() => stack?.close());

  const lookup = (headers: Record<string, string> = {}) =>
    fetch(`${stack.url}${PRINCIPALS}/${admin.user.id}`, { headers });

  it('answers a DataLab service (an internal token for the gateway) with the user’s current role and status', async () => {
    const token = await internalToken(stack, 'api-gateway');
    const answer = await lookup({ 'x-datalab-internal-token': token });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({
      id: admin.user.id,
      email: admin.user.email,
      role: 'admin',
      disabled: false,
    });
  });

  it('answers no user: not anonymous, not with an access token or an API key, not with a token meant for another service', async () => {
    const { key } = await apiKey(stack, admin.token);
    const stolen = await internalToken(stack, 'compute-service');
    for (const headers of [{}, bearer(admin.token), bearer(key), { 'x-datalab-internal-token': stolen }]) {
      const problem = await expectProblem(await lookup(headers), 401);
      expect(JSON.stringify(problem)).not.toContain(admin.user.email);
    }
  });

  it('cannot be reached through the public proxy routes, however the path is written', async () => {
    for (const target of [
      `/api/v1/compute/../../internal/v1/principals/${admin.user.id}`,
      `/api/v1/compute/%2e%2e/%2e%2e/internal/v1/principals/${admin.user.id}`,
      `/api/v1/compute/..%2f..%2finternal/v1/principals/${admin.user.id}`,
      `/api/v1/data/..%2F..%2F..%2Finternal/v1/principals/${admin.user.id}`,
    ]) {
      const status = await callWithTarget(stack.url, { target, headers: bearer(admin.token) });
      expect(status, target).not.toBe(200);
      expect(status, target).toBeLessThan(500);
    }
    stack.assertAlive();
  });
});

describe('another user’s jobs and schedules', () => {
  let stack: Stack;
  let owner: string;
  let stranger: string;
  let job: JobView;

  beforeAll(async () => {
    stack = await startStack({ ...UNLIMITED_RATES, WORKER_QUEUES: 'parked' });
    owner = (await stack.signedIn('editor')).token;
    stranger = (await stack.signedIn('editor')).token;
    job = (await call<JobView>(stack, owner, 'POST', JOBS, { type: 'noop' })).body;
  });
  afterAll(() => stack?.close());

  it.each([
    ['GET', ''],
    ['GET', '/logs'],
    ['GET', '/events'],
    ['POST', '/cancel'],
    ['POST', '/retry'],
    ['DELETE', ''],
  ])(
    'answers 404 to another editor at %s …/jobs/{id}%s, and leaves the job as it was',
    async (method, suffix) => {
      const response = await fetch(`${stack.url}${JOBS}/${job.id}${suffix}`, {
        method,
        headers: bearer(stranger),
      });
      await expectProblem(response, 404);
      const still = await call<JobView>(stack, owner, 'GET', `${JOBS}/${job.id}`);
      expect(still.body.state).toBe('queued');
    },
  );

  it('lists none of them to another editor', async () => {
    const theirs = await call<{ jobs: JobView[]; total: number }>(
      stack,
      stranger,
      'GET',
      `${JOBS}?limit=500`,
    );
    expect(theirs.body.jobs.map((j) => j.id)).not.toContain(job.id);
  });

  it('hides a private schedule (404) and lets others read but not change a shared one (403)', async () => {
    const body = { name: 'mine', cron: '0 * * * *', job: { type: 'noop' } };
    const hidden = (await call<ScheduleView>(stack, owner, 'POST', SCHEDULES, body)).body;
    const shared = (
      await call<ScheduleView>(stack, owner, 'POST', SCHEDULES, { ...body, visibility: 'shared' })
    ).body;
    const refused = async (id: string, calls: [string, string][], status: number) => {
      for (const [method, suffix] of calls)
        await expectProblem(
          await fetch(`${stack.url}${SCHEDULES}/${id}${suffix}`, { method, headers: bearer(stranger) }),
          status,
        );
    };
    await refused(
      hidden.id,
      [
        ['GET', ''],
        ['POST', '/pause'],
        ['POST', '/resume'],
        ['DELETE', ''],
      ],
      404,
    );
    expect((await call(stack, stranger, 'GET', `${SCHEDULES}/${shared.id}`)).status).toBe(200);
    await refused(
      shared.id,
      [
        ['POST', '/pause'],
        ['DELETE', ''],
      ],
      403,
    );
    const after = await call<ScheduleView>(stack, owner, 'GET', `${SCHEDULES}/${shared.id}`);
    expect(after.body.paused).toBe(false);
    stack.assertAlive();
  });
});
