import { Value } from 'typebox/value';
import { inTransaction, startPeriodic, type Logger, type Pool, type Principal } from '@datalab/platform';
import type { JobTypeRegistry } from '../job-types/registry.ts';
import { checkQuota, priorityCapOf, type JobLimits } from '../jobs/job-limits.ts';
import { createJobsRepository, type JobsRepository } from '../jobs/jobs.repository.ts';
import type { OwnerRights, OwnerVerdict } from '../owners/owner-rights.ts';
import { lastTickAtOrBefore, nextTick } from '../schedules/cron.ts';
import type { Dispatch, Dispatcher } from './dispatcher.ts';
import {
  createSchedulerRepository,
  type DueSchedule,
  type SchedulerRepository,
} from './scheduler.repository.ts';

/** Schedules fired per pass at most; more wait for the next pass. */
const BATCH = 100;

export interface SchedulerDeps {
  pool: Pool;
  dispatcher: Dispatcher;
  types: JobTypeRegistry;
  logger: Logger;
  /** A tick runs with its owner's rights of that moment: none (paused), or a lower role. */
  owners: OwnerRights;
  /** A tick's job counts against its owner's quota, and keeps within their priority cap. */
  limits: JobLimits;
}

export interface SchedulerOptions extends SchedulerDeps {
  intervalMs: number;
}

/** Each due schedule's owner verdict; none where it cannot be learnt now (that schedule waits for a later pass). */
async function verdictsOf(deps: SchedulerDeps, due: DueSchedule[]): Promise<Map<string, OwnerVerdict>> {
  const verdicts = new Map<string, OwnerVerdict>();
  const unknown: unknown[] = [];
  await Promise.all(
    due.map(async (schedule) => {
      try {
        verdicts.set(schedule.id, await deps.owners.check(schedule.owner));
      } catch (error) {
        unknown.push(error);
      }
    }),
  );
  if (unknown.length > 0)
    deps.logger.warn(
      { err: unknown[0], schedules: unknown.length },
      'due schedules wait: their owners’ rights are unknown',
    );
  return verdicts;
}

/** The repositories of one pass's transaction, and its owners' job counts (held until it ends). */
interface Pass {
  repository: SchedulerRepository;
  jobs: JobsRepository;
  counts: Map<string, number>;
}

/** Fires one due schedule's tick as `owner` (its rights now); the job it submitted, if any. */
async function fire(
  deps: SchedulerDeps,
  { repository, jobs, counts }: Pass,
  schedule: DueSchedule,
  owner: Principal,
): Promise<Dispatch | undefined> {
  const { id, cron, timezone, db_now: now } = schedule;
  const tick = lastTickAtOrBefore(cron, timezone, id, now) ?? schedule.next_run_at;
  const next = nextTick(cron, timezone, id, now);
  const skip = async (reason: string | null): Promise<undefined> => {
    if (reason) deps.logger.warn({ schedule_id: id, reason }, 'schedule tick skipped');
    await repository.advance(id, tick, { skipped: reason }, next);
    return undefined;
  };
  // Recorded by another scheduler already: it ran there.
  if (!(await repository.claimTick(id, tick))) return skip(null);
  const type = deps.types.get(schedule.job_type);
  // A type removed, or whose params changed shape, since the schedule was made: this tick cannot run.
  if (!type || !Value.Check(type.params, schedule.job_params))
    return skip(`its job no longer fits the job type "${schedule.job_type}"`);
  const count = counts.get(owner.userId) ?? 0;
  try {
    checkQuota(deps.limits, owner.role, count, 1);
  } catch (error) {
    return skip((error as Error).message);
  }
  const row = await jobs.insert({
    // The captured principal: the job is held to its owner's rights again when it starts.
    owner: schedule.owner,
    type: type.type,
    queue: type.queue,
    params: schedule.job_params,
    priority: Math.min(schedule.job_priority, priorityCapOf(deps.limits, owner.role)),
    maxAttempts: type.maxAttempts,
    timeoutMs: type.timeoutMs,
  });
  counts.set(owner.userId, count + 1);
  await repository.linkJob(id, tick, row.id);
  await jobs.log(row.id, 'info', `started by schedule ${id} for its tick at ${tick.toISOString()}`);
  await repository.advance(id, tick, { jobId: row.id }, next);
  return { id: row.id, queue: row.queue, priority: row.priority, runAfter: row.run_after };
}

/**
 * One pass, in one transaction: every due schedule this scheduler could lock
 * submits the job of its latest due tick, and moves on to the first tick after
 * now. Ticks missed while no scheduler ran (all instances down) collapse into
 * that one run. The (schedule, tick) row is the guard: whoever inserts it
 * submits the job, so a tick runs once however many schedulers race for it.
 * A schedule whose owner may run nothing now (disabled, a viewer, a revoked
 * API key) is paused instead, saying why.
 */
export async function scheduleOnce(deps: SchedulerDeps): Promise<number> {
  const submitted = await inTransaction(deps.pool, async (client) => {
    const repository = createSchedulerRepository(client);
    const due = await repository.lockDue(BATCH);
    if (due.length === 0) return [];
    const verdicts = await verdictsOf(deps, due);
    const jobs = createJobsRepository(client);
    const pass = { repository, jobs, counts: await jobs.lockActiveCounts(due.map((s) => s.owner.userId)) };
    const dispatches: Dispatch[] = [];
    for (const schedule of due) {
      const verdict = verdicts.get(schedule.id);
      if (!verdict) continue;
      if (!verdict.allowed) {
        await repository.pauseFor(schedule.id, verdict.reason);
        deps.logger.info({ schedule_id: schedule.id, reason: verdict.reason }, 'schedule paused');
        continue;
      }
      const dispatch = await fire(deps, pass, schedule, verdict.principal);
      if (dispatch) dispatches.push(dispatch);
    }
    return dispatches;
  });
  // The jobs are in PostgreSQL now; should the queue refuse them, the reconciler dispatches them.
  await deps.dispatcher.dispatch(submitted).catch((error: unknown) => {
    deps.logger.warn({ err: error }, 'could not dispatch scheduled jobs now; the reconciler will');
  });
  return submitted.length;
}

/** Fires due schedules now and every `intervalMs`, one pass at a time, until closed. */
export function startScheduler(options: SchedulerOptions): { close: () => Promise<void> } {
  const pass = async (): Promise<void> => {
    try {
      const fired = await scheduleOnce(options);
      if (fired > 0) options.logger.debug({ fired }, 'scheduler: jobs submitted');
    } catch (error) {
      options.logger.warn({ err: error }, 'scheduler pass failed');
    }
  };
  return startPeriodic(pass, options.intervalMs);
}
