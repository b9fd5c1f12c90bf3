import type { Adapters, CommonConfig, ConfigOf, Logger, Pool } from '@datalab/platform';
import type { computeConfigSchema } from '../config.ts';
import type { JobTypeRegistry } from '../job-types/registry.ts';
import type { JobLimits } from '../jobs/job-limits.ts';
import type { OwnerRights } from '../owners/owner-rights.ts';
import { createBullmqDispatcher } from './bullmq-dispatcher.ts';
import type { Dispatcher } from './dispatcher.ts';
import type { WorkerMetrics } from './engine.metrics.ts';
import { createInProcessDispatcher } from './in-process-dispatcher.ts';
import { startReconciler } from './reconciler.ts';
import { startScheduler } from './scheduler.ts';
import { startWorker, type RunningWorker } from './worker.ts';

export type ComputeConfig = ConfigOf<typeof computeConfigSchema>;

export interface EngineDeps {
  pool: Pool;
  adapters: Adapters;
  common: CommonConfig;
  config: ComputeConfig;
  types: JobTypeRegistry;
  logger: Logger;
  metrics: WorkerMetrics;
  /** What jobs and ticks run as: their owners' rights when they start. */
  owners: OwnerRights;
  limits: JobLimits;
}

/** BullMQ when the platform has Redis (distributed mode), the in-process executor otherwise. */
export function createDispatcher(
  deps: Pick<EngineDeps, 'adapters' | 'common' | 'config' | 'logger'>,
): Dispatcher {
  if (deps.adapters.kind === 'memory')
    return createInProcessDispatcher((error) =>
      deps.logger.warn({ err: error }, 'a job delivery failed; the reconciler will dispatch it again'),
    );
  return createBullmqDispatcher({
    redis: deps.common,
    prefix: `${deps.common.redisPrefix}jobs`,
    leaseMs: deps.config.jobLeaseMs,
    logger: deps.logger,
  });
}

export interface RunningEngine {
  worker: RunningWorker | undefined;
  /** Stops the worker (letting jobs finish for `graceMs`), the reconciler and the scheduler. */
  close: (graceMs: number) => Promise<void>;
}

/** What every compute process runs: the reconciler, the scheduler, and a worker when `withWorker`. */
export async function startEngine(
  deps: EngineDeps,
  dispatcher: Dispatcher,
  withWorker: boolean,
): Promise<RunningEngine> {
  const reconciler = startReconciler({
    pool: deps.pool,
    dispatcher,
    logger: deps.logger,
    intervalMs: deps.config.reconcileIntervalMs,
  });
  const scheduler = startScheduler({
    pool: deps.pool,
    dispatcher,
    types: deps.types,
    logger: deps.logger,
    owners: deps.owners,
    limits: deps.limits,
    intervalMs: deps.config.schedulerIntervalMs,
  });
  let worker: RunningWorker | undefined;
  try {
    worker = withWorker
      ? await startWorker({
          pool: deps.pool,
          dispatcher,
          events: deps.adapters.events,
          types: deps.types,
          logger: deps.logger,
          metrics: deps.metrics,
          owners: deps.owners,
          queues: deps.config.workerQueues,
          concurrency: deps.config.workerConcurrency,
          leaseMs: deps.config.jobLeaseMs,
          retryBackoffMs: deps.config.jobRetryBackoffMs,
        })
      : undefined;
  } catch (error) {
    await Promise.all([reconciler.close(), scheduler.close()]);
    throw error;
  }
  return {
    worker,
    close: async (graceMs) => {
      await worker?.stop(graceMs);
      await Promise.all([reconciler.close(), scheduler.close()]);
    },
  };
}
