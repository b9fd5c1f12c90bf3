import type { Pool, Principal } from '@datalab/platform';
import type { LogLevel } from '@datalab/platform';

/** A job as a worker sees it once it has claimed it. */
export interface ClaimedJob {
  id: string;
  type: string;
  queue: string;
  priority: number;
  params: unknown;
  owner: Principal;
  attempts: number;
  max_attempts: number;
  timeout_ms: number;
  /** The submitting request's W3C trace headers, when tracing was on. */
  trace_context: Record<string, string> | null;
}

export interface JobPointer {
  id: string;
  queue: string;
  priority: number;
  run_after: Date;
}

/** Where a failed attempt leaves the job. */
export type FailedState = 'queued' | 'failed' | 'dead';

const POINTER = 'id, queue, priority, run_after';

/** The engine's SQL: claims, leases and outcomes, each guarded so only the job's current worker writes. */
export function createEngineRepository(pool: Pool) {
  return {
    /**
     * Claims those of `ids` that are queued and due, in one statement; a job
     * runs once however often it is dispatched, since only a queued job can be claimed.
     */
    async claimMany(ids: readonly string[], workerId: string, leaseMs: number): Promise<ClaimedJob[]> {
      const result = await pool.query<ClaimedJob>(
        `UPDATE compute.jobs SET state = 'running', attempts = attempts + 1, worker_id = $2,
           lease_until = now() + make_interval(secs => $3 / 1000.0), started_at = now(),
           finished_at = NULL, updated_at = now()
         WHERE id = ANY($1::uuid[]) AND state = 'queued' AND run_after <= now()
         RETURNING id, type, queue, priority, params, owner, attempts, max_attempts, timeout_ms, trace_context`,
        [ids, workerId, leaseMs],
      );
      return result.rows;
    },

    /** The job when it is still queued (e.g. due later, or requeued while its last delivery ran). */
    async findQueued(id: string): Promise<JobPointer | undefined> {
      const result = await pool.query<JobPointer>(
        `SELECT ${POINTER} FROM compute.jobs WHERE id = $1 AND state = 'queued'`,
        [id],
      );
      return result.rows[0];
    },

    /** Renews the leases of the jobs this worker still owns; returns those it still owns. */
    async renewLeases(workerId: string, ids: readonly string[], leaseMs: number): Promise<Set<string>> {
      const result = await pool.query<{ id: string }>(
        `UPDATE compute.jobs SET lease_until = now() + make_interval(secs => $3 / 1000.0)
         WHERE id = ANY($2::uuid[]) AND worker_id = $1 AND state = 'running' RETURNING id`,
        [workerId, ids, leaseMs],
      );
      return new Set(result.rows.map((row) => row.id));
    },

    async saveProgress(
      id: string,
      workerId: string,
      percent: number,
      message: string | null,
    ): Promise<boolean> {
      const result = await pool.query(
        `UPDATE compute.jobs SET progress = $3, progress_message = $4, updated_at = now()
         WHERE id = $1 AND worker_id = $2 AND state = 'running'`,
        [id, workerId, percent, message],
      );
      return (result.rowCount ?? 0) > 0;
    },

    /**
     * Writes the results of jobs this worker still holds; returns their ids. A job
     * missing from the answer is no longer this worker's (cancelled, or requeued after its lease ran out).
     */
    async succeedMany(
      workerId: string,
      outcomes: readonly { id: string; result: unknown }[],
    ): Promise<Set<string>> {
      const answer = await pool.query<{ id: string }>(
        `UPDATE compute.jobs j SET state = 'succeeded', result = r.result, error = NULL, progress = 100,
           lease_until = NULL, finished_at = now(), updated_at = now()
         FROM unnest($2::uuid[], $3::jsonb[]) AS r(id, result)
         WHERE j.id = r.id AND j.worker_id = $1 AND j.state = 'running' RETURNING j.id`,
        [workerId, outcomes.map((o) => o.id), outcomes.map((o) => JSON.stringify(o.result ?? null))],
      );
      return new Set(answer.rows.map((row) => row.id));
    },

    /** Records a failed attempt: queued again after `retryInMs`, or `failed`/`dead` for good. */
    async fail(
      id: string,
      workerId: string,
      state: FailedState,
      error: Record<string, unknown>,
      retryInMs: number,
    ): Promise<JobPointer | undefined> {
      const result = await pool.query<JobPointer>(
        `UPDATE compute.jobs SET state = $3, error = $4::jsonb, lease_until = NULL, updated_at = now(),
           run_after = CASE WHEN $3 = 'queued' THEN now() + make_interval(secs => $5 / 1000.0) ELSE run_after END,
           finished_at = CASE WHEN $3 = 'queued' THEN NULL ELSE now() END
         WHERE id = $1 AND worker_id = $2 AND state = 'running' RETURNING ${POINTER}`,
        [id, workerId, state, JSON.stringify(error), retryInMs],
      );
      return result.rows[0];
    },

    /**
     * Gives a job back unfinished (worker shutting down, owner's rights unknown): queued again
     * in `delayMs`, the attempt not counted.
     */
    async handBack(id: string, workerId: string, delayMs = 0): Promise<JobPointer | undefined> {
      const result = await pool.query<JobPointer>(
        `UPDATE compute.jobs SET state = 'queued', attempts = attempts - 1, lease_until = NULL,
           run_after = now() + make_interval(secs => $3 / 1000.0), updated_at = now()
         WHERE id = $1 AND worker_id = $2 AND state = 'running' RETURNING ${POINTER}`,
        [id, workerId, delayMs],
      );
      return result.rows[0];
    },

    async log(id: string, level: LogLevel, message: string): Promise<void> {
      await pool.query('INSERT INTO compute.job_logs (job_id, level, message) VALUES ($1, $2, $3)', [
        id,
        level,
        message.slice(0, 4000),
      ]);
    },

    async heartbeat(workerId: string, queues: readonly string[], concurrency: number): Promise<void> {
      await pool.query(
        `INSERT INTO compute.workers (id, queues, concurrency) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`,
        [workerId, queues, concurrency],
      );
    },

    async removeWorker(workerId: string): Promise<void> {
      await pool.query('DELETE FROM compute.workers WHERE id = $1', [workerId]);
    },
  };
}

export type EngineRepository = ReturnType<typeof createEngineRepository>;
