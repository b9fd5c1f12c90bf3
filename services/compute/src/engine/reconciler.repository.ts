import type { PoolClient } from '@datalab/platform';
import type { JobPointer } from './engine.repository.ts';

export interface ExpiredJob extends JobPointer {
  state: 'queued' | 'dead';
  lost_worker: string | null;
}

const BATCH = 1000;

/** The reconciler's SQL, on the connection that holds its advisory lock. */
export function createReconcilerRepository(client: PoolClient) {
  return {
    /** One reconciler at a time across every instance; false when another holds the lock. */
    async tryLock(key: string): Promise<boolean> {
      const result = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [
        key,
      ]);
      return result.rows[0]?.ok === true;
    },

    async unlock(key: string): Promise<void> {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
    },

    /**
     * Running jobs whose worker stopped renewing the lease: queued again, or
     * dead when that was their last attempt (a job that kills its worker every
     * time must stop somewhere). The lost attempt counts.
     */
    async requeueExpired(): Promise<ExpiredJob[]> {
      const result = await client.query<ExpiredJob>(
        `WITH expired AS (
           SELECT id, worker_id FROM compute.jobs
           WHERE state = 'running' AND lease_until < now()
           ORDER BY lease_until LIMIT ${BATCH} FOR UPDATE SKIP LOCKED
         ), moved AS (
           UPDATE compute.jobs j SET
             state = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'queued' END,
             error = CASE WHEN j.attempts >= j.max_attempts
               THEN jsonb_build_object('message', 'its worker stopped during the last attempt',
                                       'kind', 'lost', 'attempt', j.attempts)
               ELSE j.error END,
             finished_at = CASE WHEN j.attempts >= j.max_attempts THEN now() END,
             worker_id = NULL, lease_until = NULL, run_after = now(), updated_at = now()
           FROM expired WHERE j.id = expired.id
           RETURNING j.id, j.queue, j.priority, j.run_after, j.state, expired.worker_id AS lost_worker
         ), logged AS (
           INSERT INTO compute.job_logs (job_id, level, message)
           SELECT id, 'warn', 'worker ' || coalesce(lost_worker, '?') || ' stopped renewing its lease: '
             || CASE WHEN state = 'dead' THEN 'no attempts left' ELSE 'queued again' END
           FROM moved
         )
         SELECT * FROM moved`,
      );
      return result.rows;
    },

    /** A page of queued jobs in id order, after `afterId`. */
    async queuedAfter(afterId: string, limit: number): Promise<JobPointer[]> {
      const result = await client.query<JobPointer>(
        `SELECT id, queue, priority, run_after FROM compute.jobs
         WHERE state = 'queued' AND id > $1 ORDER BY id LIMIT $2`,
        [afterId, limit],
      );
      return result.rows;
    },

    /** Run records of ticks a month old: no scheduler can come back to a tick that far behind its schedule. */
    async forgetOldScheduleRuns(): Promise<void> {
      await client.query("DELETE FROM compute.schedule_runs WHERE tick < now() - interval '30 days'");
    },

    /** Workers silent for an hour are gone for good (a clean stop removes its own row). */
    async forgetSilentWorkers(): Promise<void> {
      await client.query("DELETE FROM compute.workers WHERE heartbeat_at < now() - interval '1 hour'");
    },
  };
}
