import {
  inTransaction,
  selectPage,
  type Page,
  type Pool,
  type Principal,
  type Visibility,
} from '@datalab/platform';

export interface ScheduleRow {
  id: string;
  owner_id: string;
  name: string;
  cron: string;
  timezone: string;
  job_type: string;
  job_params: Record<string, unknown>;
  job_priority: number;
  visibility: Visibility;
  paused: boolean;
  paused_reason: string | null;
  next_run_at: Date | null;
  last_run_at: Date | null;
  last_job_id: string | null;
  last_skip_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

/** A schedule with the principal its ticks run as (never shown in the API). */
export interface OwnedScheduleRow extends ScheduleRow {
  owner: Principal;
}

export interface NewSchedule {
  id: string;
  owner: Principal;
  name: string;
  cron: string;
  timezone: string;
  jobType: string;
  jobParams: Record<string, unknown>;
  jobPriority: number;
  visibility: Visibility;
  /** Undefined: created paused. */
  nextRunAt: Date | undefined;
}

const COLUMNS = `id, owner_id, name, cron, timezone, job_type, job_params, job_priority, visibility, paused,
  paused_reason, next_run_at, last_run_at, last_job_id, last_skip_reason, created_at, updated_at`;

/** The API's SQL for schedules; the scheduler's own (firing ticks) is in the engine. */
export function createSchedulesRepository(pool: Pool) {
  return {
    /**
     * Inserts it unless its owner has `limit` schedules already (undefined then). The owner's
     * count is held from the count to the insert, so parallel creations cannot all pass the limit.
     */
    async insertUnderLimit(schedule: NewSchedule, limit: number): Promise<ScheduleRow | undefined> {
      return inTransaction(pool, async (client) => {
        await client.query(
          `SELECT pg_advisory_xact_lock(hashtextextended('compute.schedules.owner:' || $1, 0))`,
          [schedule.owner.userId],
        );
        const result = await client.query<ScheduleRow>(
          `INSERT INTO compute.schedules (id, owner_id, owner, name, cron, timezone, job_type, job_params,
             job_priority, visibility, paused, next_run_at)
           SELECT $1, $2, $3::jsonb, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12
           WHERE (SELECT count(*) FROM compute.schedules WHERE owner_id = $2) < $13
           RETURNING ${COLUMNS}`,
          [
            schedule.id,
            schedule.owner.userId,
            JSON.stringify(schedule.owner),
            schedule.name,
            schedule.cron,
            schedule.timezone,
            schedule.jobType,
            JSON.stringify(schedule.jobParams),
            schedule.jobPriority,
            schedule.visibility,
            schedule.nextRunAt === undefined,
            schedule.nextRunAt ?? null,
            limit,
          ],
        );
        return result.rows[0];
      });
    },

    async findById(id: string): Promise<OwnedScheduleRow | undefined> {
      const result = await pool.query<OwnedScheduleRow>(
        `SELECT ${COLUMNS}, owner FROM compute.schedules WHERE id = $1`,
        [id],
      );
      return result.rows[0];
    },

    /**
     * Schedules `readerId` owns, plus the shared ones unless `ownOnly`;
     * every schedule when `readerId` is undefined (admins).
     */
    async list(
      readerId: string | undefined,
      ownOnly: boolean,
      limit: number,
      offset: number,
    ): Promise<Page<ScheduleRow>> {
      return selectPage<ScheduleRow>(
        pool,
        {
          columns: COLUMNS,
          from: 'compute.schedules',
          where: `($1::uuid IS NULL OR owner_id = $1 OR (NOT $2 AND visibility = 'shared'))`,
          orderBy: 'created_at DESC, id',
          params: [readerId ?? null, ownOnly],
        },
        limit,
        offset,
      );
    },

    /** Pauses it (no tick runs until resumed); undefined when it was already paused or is gone. */
    async pause(id: string): Promise<ScheduleRow | undefined> {
      const result = await pool.query<ScheduleRow>(
        `UPDATE compute.schedules SET paused = true, paused_reason = NULL, next_run_at = NULL, updated_at = now()
         WHERE id = $1 AND NOT paused RETURNING ${COLUMNS}`,
        [id],
      );
      return result.rows[0];
    },

    /** Resumes it from `nextRunAt` (ticks missed while paused do not run); undefined when not paused. */
    async resume(id: string, nextRunAt: Date): Promise<ScheduleRow | undefined> {
      const result = await pool.query<ScheduleRow>(
        `UPDATE compute.schedules SET paused = false, paused_reason = NULL, next_run_at = $2, updated_at = now()
         WHERE id = $1 AND paused RETURNING ${COLUMNS}`,
        [id, nextRunAt],
      );
      return result.rows[0];
    },

    /** Deletes it with its run records; the jobs it started stay. */
    async delete(id: string): Promise<boolean> {
      const result = await pool.query('DELETE FROM compute.schedules WHERE id = $1', [id]);
      return (result.rowCount ?? 0) > 0;
    },
  };
}

export type SchedulesRepository = ReturnType<typeof createSchedulesRepository>;
