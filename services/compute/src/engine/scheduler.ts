import { Value } from 'typebox/value';
import type { Logger, Pool } from '@datalab/platform';
import type { JobTypeRegistry } from '../job-types/registry.ts';
import { createJobsRepository } from '../jobs/jobs.repository.ts';
import { lastTickAtOrBefore, nextTick } from '../schedules/cron.ts';
import type { Dispatch, Dispatcher } from './dispatcher.ts';
import { createSchedulerRepository, type DueSchedule } from './scheduler.repository.ts';
import { startPeriodic } from './periodic.ts';

/** Schedules fired per pass at most; more wait for the next pass. */
const BATCH = 100;

export interface SchedulerDeps {
  pool: Pool;
  dispatcher: Dispatcher;
  types: JobTypeRegistry;
  logger: Logger;
}

export interface SchedulerOptions extends SchedulerDeps {
  intervalMs: number;
}

/**
 * One pass, in one transaction: every due schedule this scheduler could lock
 * submits the job of its latest due tick, and moves on to the first tick after
 * now. Ticks missed while no scheduler ran (all instances down) collapse into
 * that one run. The (schedule, tick) row is the guard: whoever inserts it
 * submits the job, so a tick runs once however many schedulers race for it.
 */
export async function scheduleOnce(deps: SchedulerDeps): Promise<number> {
  const client = await deps.pool.connect();
  const repository = createSchedulerRepository(client);
  const jobs = createJobsRepository(client);
  const submitted: Dispatch[] = [];
  let broken: Error | undefined;

  const fire = async (schedule: DueSchedule): Promise<void> => {
    const { id, cron, timezone, db_now: now } = schedule;
    const tick = lastTickAtOrBefore(cron, timezone, id, now) ?? schedule.next_run_at;
    const next = nextTick(cron, timezone, id, now);
    let jobId: string | null = null;
    if (await repository.claimTick(id, tick)) {
      const type = deps.types.get(schedule.job_type);
      // A type removed, or whose params changed shape, since the schedule was made: this tick cannot run.
      if (!type || !Value.Check(type.params, schedule.job_params)) {
        deps.logger.warn(
          { schedule_id: id, type: schedule.job_type },
          'schedule tick skipped: its job no longer fits its type',
        );
      } else {
        const row = await jobs.insert({
          owner: schedule.owner,
          type: type.type,
          queue: type.queue,
          params: schedule.job_params,
          priority: schedule.job_priority,
          maxAttempts: type.maxAttempts,
          timeoutMs: type.timeoutMs,
        });
        await repository.linkJob(id, tick, row.id);
        await jobs.log(row.id, 'info', `started by schedule ${id} for its tick at ${tick.toISOString()}`);
        submitted.push({ id: row.id, queue: row.queue, priority: row.priority, runAfter: row.run_after });
        jobId = row.id;
      }
    }
    await repository.advance(id, tick, jobId, next);
  };

  try {
    await client.query('BEGIN');
    for (const schedule of await repository.lockDue(BATCH)) await fire(schedule);
    await client.query('COMMIT');
  } catch (error) {
    broken = error as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release(broken);
  }
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
