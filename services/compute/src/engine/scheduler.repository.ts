import type { PoolClient, Principal } from '@datalab/platform';

/** A schedule whose next tick is due, as the scheduler fires it. */
export interface DueSchedule {
  id: string;
  owner: Principal;
  cron: string;
  timezone: string;
  job_type: string;
  job_params: Record<string, unknown>;
  job_priority: number;
  next_run_at: Date;
  /** The database's clock, the one every scheduler reads ticks against. */
  db_now: Date;
}

/** The scheduler's SQL, inside the transaction of one pass. */
export function createSchedulerRepository(client: PoolClient) {
  return {
    /** Due schedules, each locked for this pass; those another scheduler holds are skipped. */
    async lockDue(limit: number): Promise<DueSchedule[]> {
      const result = await client.query<DueSchedule>(
        `SELECT id, owner, cron, timezone, job_type, job_params, job_priority, next_run_at, now() AS db_now
         FROM compute.schedules WHERE NOT paused AND next_run_at <= now()
         ORDER BY next_run_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      return result.rows;
    },

    /** Claims the tick: true for the one scheduler that records it first, false for any other. */
    async claimTick(scheduleId: string, tick: Date): Promise<boolean> {
      const result = await client.query(
        `INSERT INTO compute.schedule_runs (schedule_id, tick) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
        [scheduleId, tick],
      );
      return (result.rowCount ?? 0) > 0;
    },

    async linkJob(scheduleId: string, tick: Date, jobId: string): Promise<void> {
      await client.query(
        'UPDATE compute.schedule_runs SET job_id = $3 WHERE schedule_id = $1 AND tick = $2',
        [scheduleId, tick, jobId],
      );
    },

    /**
     * Moves the schedule on to `next` (none: it never fires again, so it is paused), noting why
     * this tick submitted no job (`skipped`), or that it did.
     */
    async advance(
      scheduleId: string,
      ran: Date,
      outcome: { jobId: string } | { skipped: string | null },
      next: Date | undefined,
    ): Promise<void> {
      const jobId = 'jobId' in outcome ? outcome.jobId : null;
      const skipped = 'skipped' in outcome ? outcome.skipped : null;
      await client.query(
        `UPDATE compute.schedules SET last_run_at = $2, last_job_id = coalesce($3, last_job_id),
           last_skip_reason = $5, next_run_at = $4, paused = $4::timestamptz IS NULL,
           paused_reason = CASE WHEN $4::timestamptz IS NULL THEN 'its expression fires no more' END,
           updated_at = now()
         WHERE id = $1`,
        [scheduleId, ran, jobId, next ?? null, skipped],
      );
    },

    /** Pauses it because its ticks cannot run now (`reason`); a person resumes it. */
    async pauseFor(scheduleId: string, reason: string): Promise<void> {
      await client.query(
        `UPDATE compute.schedules SET paused = true, paused_reason = $2, next_run_at = NULL, updated_at = now()
         WHERE id = $1`,
        [scheduleId, reason],
      );
    },
  };
}

export type SchedulerRepository = ReturnType<typeof createSchedulerRepository>;
