import { Counter, Gauge, Histogram, type Pool, type Registry } from '@datalab/platform';

const STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'dead'] as const;

/** How an attempt ended, as the duration histogram labels it. */
export type AttemptOutcome = 'succeeded' | 'failed' | 'timed_out' | 'cancelled' | 'lost' | 'handed_back';

export interface WorkerMetrics {
  duration: Histogram<'type' | 'outcome'>;
  attempts: Counter<'type'>;
}

/** Observed where attempts run: the worker's process. */
export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  return {
    duration: new Histogram({
      name: 'compute_job_duration_seconds',
      help: 'How long job attempts ran, by job type and outcome.',
      labelNames: ['type', 'outcome'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
      registers: [registry],
    }),
    attempts: new Counter({
      name: 'compute_job_attempts_total',
      help: 'Job attempts started, by job type.',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
  };
}

/** Queue depth, oldest waiting job and live workers, read from PostgreSQL when scraped. */
export function registerQueueGauges(registry: Registry, pool: Pool): void {
  new Gauge({
    name: 'compute_jobs',
    help: 'Jobs by state.',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const result = await pool.query<{ state: string; n: string }>(
        'SELECT state, count(*) AS n FROM compute.jobs GROUP BY state',
      );
      const counts = new Map(result.rows.map((row) => [row.state, Number(row.n)]));
      for (const state of STATES) this.set({ state }, counts.get(state) ?? 0);
    },
  });
  new Gauge({
    name: 'compute_oldest_queued_job_age_seconds',
    help: 'How long the job that has waited longest has been due to run (0 when none waits).',
    registers: [registry],
    async collect() {
      const result = await pool.query<{ age: number | null }>(
        `SELECT extract(epoch FROM now() - min(run_after))::float8 AS age
         FROM compute.jobs WHERE state = 'queued' AND run_after <= now()`,
      );
      this.set(result.rows[0]?.age ?? 0);
    },
  });
  new Gauge({
    name: 'compute_workers_alive',
    help: 'Workers that sent a heartbeat in the last 30 seconds.',
    registers: [registry],
    async collect() {
      const result = await pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM compute.workers WHERE heartbeat_at > now() - interval '30 seconds'",
      );
      this.set(Number(result.rows[0]?.n ?? 0));
    },
  });
}
