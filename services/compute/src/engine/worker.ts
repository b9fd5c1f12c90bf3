import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Events, Logger, Pool } from '@datalab/platform';
import type { JobTypeRegistry } from '../job-types/registry.ts';
import type { OwnerRights } from '../owners/owner-rights.ts';
import { createAttemptRunner } from './attempt.ts';
import type { Dispatcher, Processed } from './dispatcher.ts';
import type { WorkerMetrics } from './engine.metrics.ts';
import { createEngineRepository } from './engine.repository.ts';
import { Interruption } from './interruption.ts';
import { CANCEL_CHANNEL, createAnnouncer, isCancelMessage } from './job-events.ts';

export interface WorkerOptions {
  pool: Pool;
  dispatcher: Dispatcher;
  events: Events;
  types: JobTypeRegistry;
  logger: Logger;
  metrics: WorkerMetrics;
  /** Each attempt runs with its owner's rights of the moment it starts. */
  owners: OwnerRights;
  /** Queues to take jobs from; empty: every queue a known type runs on. */
  queues: readonly string[];
  concurrency: number;
  leaseMs: number;
  retryBackoffMs: number;
}

export interface RunningWorker {
  id: string;
  queues: readonly string[];
  /** Stops taking jobs, lets running ones finish for `graceMs`, then hands the rest back. */
  stop: (graceMs: number) => Promise<void>;
}

export function newWorkerId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * A worker: takes job ids from the dispatcher, runs them, renews their leases
 * (and its own heartbeat in compute.workers) every third of the lease, and
 * aborts an attempt when it is cancelled or stops being this worker's.
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const id = newWorkerId();
  const logger = options.logger.child({ worker_id: id });
  const queues = options.queues.length > 0 ? options.queues : options.types.queues();
  const repository = createEngineRepository(options.pool);
  const runner = createAttemptRunner({
    repository,
    types: options.types,
    announce: createAnnouncer(options.events, logger),
    logger,
    metrics: options.metrics,
    owners: options.owners,
    workerId: id,
    leaseMs: options.leaseMs,
    retryBackoffMs: options.retryBackoffMs,
    progressIntervalMs: 250,
  });

  const beat = async (): Promise<void> => {
    await repository.heartbeat(id, queues, options.concurrency);
    const ids = [...runner.running.keys()];
    if (ids.length === 0) return;
    const kept = await repository.renewLeases(id, ids, options.leaseMs);
    for (const jobId of ids)
      if (!kept.has(jobId))
        runner.interrupt(jobId, new Interruption('lost', 'the job is no longer this worker’s'));
  };
  await beat();
  const heartbeat = setInterval(
    () => {
      beat().catch((error: unknown) => logger.warn({ err: error }, 'worker heartbeat failed'));
    },
    Math.max(100, Math.floor(options.leaseMs / 3)),
  );

  const unsubscribe = await options.events.subscribe(CANCEL_CHANNEL, (message) => {
    if (isCancelMessage(message)) runner.interrupt(message.id, new Interruption('cancelled', 'cancelled'));
  });

  let stopping = false;
  const consumer = options.dispatcher.consume(
    { queues, concurrency: options.concurrency },
    async (jobId): Promise<Processed> =>
      // A delivery that arrives while stopping goes back untouched, for another worker.
      stopping ? { kind: 'later', at: new Date() } : runner.process(jobId),
  );
  logger.info({ queues, concurrency: options.concurrency }, 'worker started');

  return {
    id,
    queues,
    stop: async (graceMs) => {
      stopping = true;
      const handBack = setTimeout(
        () => runner.interruptAll(new Interruption('shutdown', 'the worker is shutting down')),
        graceMs,
      );
      try {
        await consumer.stop();
      } finally {
        clearTimeout(handBack);
        clearInterval(heartbeat);
        await unsubscribe().catch(() => undefined);
        await repository.removeWorker(id).catch(() => undefined);
      }
      logger.info('worker stopped');
    },
  };
}
