import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '@datalab/contracts';
import { connectDatabase, loadConfig, type Database } from '@datalab/platform';
import { silentLogger } from '../../../../test/helpers.ts';
import { person } from '../../../../test/internal.ts';
import { queryOnce } from '../../../../test/processes.ts';
import { startCompute, type Compute } from '../compute.test-fixtures.ts';
import { computeConfigSchema } from '../config.ts';
import { createInProcessDispatcher } from '../engine/in-process-dispatcher.ts';
import { scheduleOnce } from '../engine/scheduler.ts';
import { noopJob } from '../job-types/noop.ts';
import { createJobTypeRegistry } from '../job-types/registry.ts';
import { jobLimitsFrom } from '../jobs/job-limits.ts';
import { submittedRights } from '../owners/owner-rights.ts';
import { createSchedulesRepository } from './schedules.repository.ts';
import type { Schedule, ScheduleList } from './schedules.schemas.ts';

const SCHEDULES = '/api/v1/compute/schedules';
// The service's own scheduler stays out of the way (a minute between passes): these tests drive passes themselves.
let compute: Compute;
let db: Database;
const editor = person('editor');

const hourly = (extra: object = {}) => ({
  name: 'nightly noop',
  cron: '0 * * * *',
  job: { type: 'noop', params: { duration_ms: 10 } },
  ...extra,
});

async function create(owner = editor, body: object = hourly()): Promise<Schedule> {
  const answer = await compute.call<Schedule>(owner, 'POST', SCHEDULES, body);
  expect(answer.status).toBe(201);
  return answer.body;
}

beforeAll(async () => {
  compute = await startCompute({ SCHEDULER_INTERVAL_MS: '60000', SCHEDULE_MIN_INTERVAL_S: '60' });
  db = await connectDatabase({
    url: compute.env.DATABASE_URL!,
    poolSize: 8,
    connectTimeoutMs: 5000,
    applicationName: 'schedules-test',
    logger: silentLogger,
  });
});
afterAll(async () => {
  await db?.close();
  await compute?.close();
});

describe('creating a schedule', () => {
  it('answers the schedule with its first tick, in its timezone', async () => {
    const schedule = await create(editor, hourly({ cron: '30 9 * * *', timezone: 'Asia/Kolkata' }));
    expect(schedule).toMatchObject({
      owner_id: editor.userId,
      timezone: 'Asia/Kolkata',
      paused: false,
      visibility: 'private',
      job: { type: 'noop', params: { duration_ms: 10 }, priority: 50 },
      last_run_at: null,
    });
    // 09:30 in Kolkata (UTC+05:30) is 04:00 UTC.
    expect(schedule.next_run_at).toMatch(/T04:00:00\.000Z$/);
    expect(Date.parse(schedule.next_run_at!)).toBeGreaterThan(Date.now());
  });

  it('refuses what cannot run with 400 naming the field', async () => {
    const refused = async (body: object): Promise<string[] | undefined> => {
      const answer = await compute.call<Problem>(editor, 'POST', SCHEDULES, body);
      expect(answer.status).toBe(400);
      return answer.body.errors?.map((error) => error.field);
    };
    expect(await refused(hourly({ job: { type: 'noop', params: { duration_ms: 'soon' } } }))).toEqual([
      '/body/job/params/duration_ms',
    ]);
    expect(await refused(hourly({ job: { type: 'teleport' } }))).toEqual(['/body/job/type']);
    expect(await refused(hourly({ cron: '61 * * * *' }))).toEqual(['/body/cron']);
    expect(await refused(hourly({ cron: '0 0 30 2 *' }))).toEqual(['/body/cron']);
    expect(await refused(hourly({ timezone: 'Mars/Olympus' }))).toEqual(['/body/timezone']);
    // Every 10 s is more often than the least interval allowed here (60 s).
    expect(await refused(hourly({ cron: '*/10 * * * * *' }))).toEqual(['/body/cron']);
  });

  it('holds one owner to the most schedules allowed, however many creations run at once', async () => {
    const owner = person('editor');
    const schedules = createSchedulesRepository(db.pool);
    const fresh = () => ({
      id: randomUUID(),
      owner,
      name: 'parallel',
      cron: '0 * * * *',
      timezone: 'UTC',
      jobType: 'noop',
      jobParams: {},
      jobPriority: 50,
      visibility: 'private' as const,
      nextRunAt: new Date(Date.now() + 3_600_000),
    });
    // Every connection of the pool open first, so the creations really do run at once.
    await Promise.all(Array.from({ length: 8 }, () => db.pool.query('SELECT pg_sleep(0.05)')));
    const made = await Promise.all(Array.from({ length: 16 }, () => schedules.insertUnderLimit(fresh(), 3)));
    expect(made.filter((row) => row !== undefined)).toHaveLength(3);
    const mine = (await compute.call<ScheduleList>(owner, 'GET', `${SCHEDULES}?owner=me`)).body;
    expect(mine.total).toBe(3);
  });

  it('is refused to viewers (403)', async () => {
    expect((await compute.call(person('viewer'), 'POST', SCHEDULES, hourly())).status).toBe(403);
  });
});

describe('owning a schedule', () => {
  it('hides a private schedule from another editor; a shared one they may read but not change', async () => {
    const owner = person('editor');
    const other = person('editor');
    const secret = await create(owner);
    const shared = await create(owner, hourly({ visibility: 'shared' }));

    for (const [method, path] of [
      ['GET', `${SCHEDULES}/${secret.id}`],
      ['POST', `${SCHEDULES}/${secret.id}/pause`],
      ['DELETE', `${SCHEDULES}/${secret.id}`],
    ] as const)
      expect((await compute.call(other, method, path)).status, `${method} ${path}`).toBe(404);
    expect((await compute.call(other, 'GET', `${SCHEDULES}/${shared.id}`)).status).toBe(200);
    expect((await compute.call(other, 'POST', `${SCHEDULES}/${shared.id}/pause`)).status).toBe(403);
    expect((await compute.call(other, 'DELETE', `${SCHEDULES}/${shared.id}`)).status).toBe(403);

    const theirs = (await compute.call<ScheduleList>(other, 'GET', SCHEDULES)).body;
    expect(theirs.schedules.map((s) => s.id)).toContain(shared.id);
    expect(theirs.schedules.map((s) => s.id)).not.toContain(secret.id);
    const mine = (await compute.call<ScheduleList>(owner, 'GET', `${SCHEDULES}?owner=me`)).body;
    expect(mine).toMatchObject({ total: 2 });
    expect((await compute.call(person('admin'), 'GET', `${SCHEDULES}/${secret.id}`)).status).toBe(200);
  });

  it('pauses (no next tick), resumes from the next tick, refuses doing either twice (409), and deletes', async () => {
    const owner = person('editor');
    const schedule = await create(owner);
    const paused = await compute.call<Schedule>(owner, 'POST', `${SCHEDULES}/${schedule.id}/pause`);
    expect(paused.body).toMatchObject({ paused: true, next_run_at: null });
    expect((await compute.call(owner, 'POST', `${SCHEDULES}/${schedule.id}/pause`)).status).toBe(409);

    const resumed = await compute.call<Schedule>(owner, 'POST', `${SCHEDULES}/${schedule.id}/resume`);
    expect(resumed.body).toMatchObject({ paused: false, next_run_at: schedule.next_run_at });
    expect((await compute.call(owner, 'POST', `${SCHEDULES}/${schedule.id}/resume`)).status).toBe(409);

    expect((await compute.call(owner, 'DELETE', `${SCHEDULES}/${schedule.id}`)).status).toBe(204);
    expect((await compute.call(owner, 'GET', `${SCHEDULES}/${schedule.id}`)).status).toBe(404);
  });
});

describe('a due tick', () => {
  it('runs once when eight schedulers race for it, as a job of the schedule’s owner; missed ticks collapse into that one run', async () => {
    const owner = person('editor');
    const schedule = await create(owner, hourly({ cron: '*/5 * * * *' }));
    // As if every scheduler had been down for an hour: twelve ticks were missed.
    await db.pool.query(
      `UPDATE compute.schedules SET next_run_at = now() - interval '1 hour' WHERE id = $1`,
      [schedule.id],
    );
    const deps = {
      pool: db.pool,
      dispatcher: createInProcessDispatcher(() => undefined),
      types: createJobTypeRegistry([noopJob]),
      logger: silentLogger,
      owners: submittedRights,
      limits: jobLimitsFrom(loadConfig(computeConfigSchema, {})),
    };
    const fired = await Promise.all(Array.from({ length: 8 }, () => scheduleOnce(deps)));
    expect(fired.reduce((sum, n) => sum + n, 0)).toBe(1);

    const runs = await queryOnce(
      compute.env.DATABASE_URL!,
      `SELECT r.tick, j.owner_id, j.type, j.params FROM compute.schedule_runs r
       JOIN compute.jobs j ON j.id = r.job_id WHERE r.schedule_id = '${schedule.id}'`,
    );
    expect(runs).toHaveLength(1);
    const tick = runs[0]!.tick as Date;
    expect(runs[0]).toEqual({ tick, owner_id: owner.userId, type: 'noop', params: { duration_ms: 10 } });
    // The latest missed tick (a multiple of five minutes, within the last five).
    expect(tick.getTime() % 300_000).toBe(0);
    expect(Date.now() - tick.getTime()).toBeLessThan(300_000);
    const after = (await compute.call<Schedule>(owner, 'GET', `${SCHEDULES}/${schedule.id}`)).body;
    expect(after.last_run_at).toBe(tick.toISOString());
    expect(Date.parse(after.next_run_at!)).toBe(tick.getTime() + 300_000);
  });
});
