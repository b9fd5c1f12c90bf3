import {
  currentTraceCarrier,
  inTransaction,
  selectPage,
  uuidv7,
  type Page,
  type Pool,
  type PoolClient,
  type Principal,
} from '@datalab/platform';
import type { LogLevel } from '@datalab/platform';
import type { JobState } from './jobs.schemas.ts';

export interface JobRow {
  id: string;
  type: string;
  queue: string;
  owner_id: string;
  state: JobState;
  priority: number;
  progress: number;
  progress_message: string | null;
  attempts: number;
  max_attempts: number;
  params: Record<string, unknown>;
  result: unknown;
  error: { message: string; kind: string; attempt: number } | null;
  worker_id: string | null;
  run_after: Date;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

export interface NewJob {
  owner: Principal;
  type: string;
  queue: string;
  params: Record<string, unknown>;
  priority: number;
  maxAttempts: number;
  timeoutMs: number;
}

/** Which jobs a list covers; unset members do not narrow it. */
export interface JobFilter {
  ownerId?: string | undefined;
  state?: JobState | undefined;
  type?: string | undefined;
}

export interface LogRow {
  at: Date;
  level: LogLevel;
  message: string;
}

const COLUMNS = `id, type, queue, owner_id, state, priority, progress, progress_message, attempts, max_attempts,
  params, result, error, worker_id, run_after, created_at, started_at, finished_at, updated_at`;
const FILTER = `($1::uuid IS NULL OR owner_id = $1) AND ($2::text IS NULL OR state = $2)
  AND ($3::text IS NULL OR type = $3)`;

/** The active trace as JSON for `trace_context`; SQL NULL when tracing is off. */
function traceContext(): string | null {
  const carrier = currentTraceCarrier();
  return carrier ? JSON.stringify(carrier) : null;
}

/** A job to insert with the trace of the request that submitted it, read when it was submitted. */
export interface TracedJob extends NewJob {
  traceContext: string | null;
}

/** `job` with the active trace (the submitting request's, continued by the attempt: see runInSavedTrace). */
export const traced = (job: NewJob): TracedJob => ({ ...job, traceContext: traceContext() });

/** On the pool, or on a client inside a transaction (a schedule's tick inserts its job with its run record). */
export function createJobsRepository(pool: Pool | PoolClient) {
  async function insertEach(jobs: readonly TracedJob[]): Promise<JobRow[]> {
    const result = await pool.query<JobRow>(
      `INSERT INTO compute.jobs (id, owner_id, owner, type, queue, params, priority, max_attempts, timeout_ms, trace_context)
       SELECT t.id, t.owner_id, t.owner, t.type, t.queue, t.params, t.priority, t.max_attempts, t.timeout_ms, t.trace_context
       FROM unnest($10::uuid[], $1::uuid[], $2::jsonb[], $3::text[], $4::text[], $5::jsonb[], $6::int[], $7::int[],
           $8::int[], $9::jsonb[])
         WITH ORDINALITY AS t(id, owner_id, owner, type, queue, params, priority, max_attempts, timeout_ms, trace_context, n)
       ORDER BY t.n RETURNING ${COLUMNS}`,
      [
        jobs.map((job) => job.owner.userId),
        jobs.map((job) => JSON.stringify(job.owner)),
        jobs.map((job) => job.type),
        jobs.map((job) => job.queue),
        jobs.map((job) => JSON.stringify(job.params)),
        jobs.map((job) => job.priority),
        jobs.map((job) => job.maxAttempts),
        jobs.map((job) => job.timeoutMs),
        jobs.map((job) => job.traceContext),
        // Time-ordered ids: every insert lands at the right edge of the primary key.
        jobs.map(() => uuidv7()),
      ],
    );
    return result.rows;
  }

  return {
    async insert(job: NewJob): Promise<JobRow> {
      return (await insertEach([traced(job)]))[0]!;
    },

    /** Jobs of any owners in one statement: all are written, or none. In the order given. */
    insertEach,

    /**
     * Inside a transaction: holds each owner's job count until it ends, so that what two
     * submissions count and add cannot interleave, and answers how many jobs each has queued or
     * running. Owners are taken in one order, so two transactions never wait on each other in a circle.
     */
    async lockActiveCounts(ownerIds: readonly string[]): Promise<Map<string, number>> {
      const owners = [...new Set(ownerIds)].sort();
      for (const owner of owners)
        await pool.query(`SELECT pg_advisory_xact_lock(hashtextextended('compute.jobs.owner:' || $1, 0))`, [
          owner,
        ]);
      const result = await pool.query<{ owner_id: string; n: number }>(
        `SELECT owner_id, count(*)::int AS n FROM compute.jobs
         WHERE owner_id = ANY($1::uuid[]) AND state IN ('queued', 'running') GROUP BY owner_id`,
        [owners],
      );
      return new Map(result.rows.map((row) => [row.owner_id, row.n]));
    },

    async findById(id: string): Promise<JobRow | undefined> {
      const result = await pool.query<JobRow>(`SELECT ${COLUMNS} FROM compute.jobs WHERE id = $1`, [id]);
      return result.rows[0];
    },

    async list(filter: JobFilter, limit: number, offset: number): Promise<Page<JobRow>> {
      return selectPage<JobRow>(
        pool,
        {
          columns: COLUMNS,
          from: 'compute.jobs',
          where: FILTER,
          orderBy: 'created_at DESC, id',
          params: [filter.ownerId ?? null, filter.state ?? null, filter.type ?? null],
        },
        limit,
        offset,
      );
    },

    async logs(id: string, limit: number, offset: number): Promise<LogRow[]> {
      const result = await pool.query<LogRow>(
        'SELECT at, level, message FROM compute.job_logs WHERE job_id = $1 ORDER BY id LIMIT $2 OFFSET $3',
        [id, limit, offset],
      );
      return result.rows;
    },

    async log(id: string, level: LogLevel, message: string): Promise<void> {
      await pool.query('INSERT INTO compute.job_logs (job_id, level, message) VALUES ($1, $2, $3)', [
        id,
        level,
        message,
      ]);
    },

    /** Cancels a queued or running job; `was` tells which it was. Undefined when it was neither. */
    async cancel(id: string): Promise<(JobRow & { was: JobState }) | undefined> {
      const result = await pool.query<JobRow & { was: JobState }>(
        `UPDATE compute.jobs j SET state = 'cancelled', lease_until = NULL, finished_at = now(), updated_at = now()
         FROM (SELECT id, state AS was FROM compute.jobs WHERE id = $1 FOR UPDATE) old
         WHERE j.id = old.id AND old.was IN ('queued', 'running')
         RETURNING ${COLUMNS.replace(/(\w+)/g, 'j.$1')}, old.was`,
        [id],
      );
      return result.rows[0];
    },

    /**
     * A failed, dead or cancelled job is queued again with `extraAttempts` more
     * attempts; `attempts` keeps counting, so the history stays true.
     */
    async retry(id: string, extraAttempts: number): Promise<JobRow | undefined> {
      const result = await pool.query<JobRow>(
        `UPDATE compute.jobs SET state = 'queued', max_attempts = attempts + $2, run_after = now(), progress = 0,
           progress_message = NULL, result = NULL, error = NULL, worker_id = NULL, lease_until = NULL,
           started_at = NULL, finished_at = NULL, updated_at = now()
         WHERE id = $1 AND state IN ('failed', 'dead', 'cancelled') RETURNING ${COLUMNS}`,
        [id, extraAttempts],
      );
      return result.rows[0];
    },

    /** Deletes a job that is not running (its logs go with it); false when it runs or is gone. */
    async delete(id: string): Promise<boolean> {
      const result = await pool.query("DELETE FROM compute.jobs WHERE id = $1 AND state <> 'running'", [id]);
      return (result.rowCount ?? 0) > 0;
    },
  };
}

export type JobsRepository = ReturnType<typeof createJobsRepository>;

/** Runs `work` on a repository bound to one transaction of its own (committed when `work` returns). */
export type JobsTransaction = <T>(work: (repository: JobsRepository) => Promise<T>) => Promise<T>;

export function jobsTransactions(pool: Pool): JobsTransaction {
  return (work) => inTransaction(pool, (client) => work(createJobsRepository(client)));
}
