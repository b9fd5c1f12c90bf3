import { startPeriodic, type Logger, type Pool } from '@datalab/platform';
import type { Dispatch, Dispatcher } from './dispatcher.ts';
import type { JobPointer } from './engine.repository.ts';
import { createReconcilerRepository } from './reconciler.repository.ts';

const LOCK_KEY = 'datalab.compute.reconciler';
const PAGE = 500;
const FIRST_ID = '00000000-0000-0000-0000-000000000000';

export interface ReconcilerOptions {
  pool: Pool;
  dispatcher: Dispatcher;
  logger: Logger;
  intervalMs: number;
}

export interface PassReport {
  /** False when another instance held the lock and this pass did nothing. */
  ran: boolean;
  requeued: number;
  dead: number;
  redispatched: number;
}

const toDispatch = (job: JobPointer): Dispatch => ({
  id: job.id,
  queue: job.queue,
  priority: job.priority,
  runAfter: job.run_after,
});

/** One pass: requeue the jobs of dead workers, then dispatch every queued job the queue does not hold. */
export async function reconcileOnce(pool: Pool, dispatcher: Dispatcher): Promise<PassReport> {
  const client = await pool.connect();
  const repository = createReconcilerRepository(client);
  let locked = false;
  let broken: Error | undefined;
  try {
    locked = await repository.tryLock(LOCK_KEY);
    if (!locked) return { ran: false, requeued: 0, dead: 0, redispatched: 0 };
    const expired = await repository.requeueExpired();
    const requeued = expired.filter((job) => job.state === 'queued');
    await dispatcher.redispatch(requeued.map(toDispatch));
    let redispatched = 0;
    for (let after = FIRST_ID; ;) {
      const page = await repository.queuedAfter(after, PAGE);
      const missing = new Set(await dispatcher.missing(page.map(toDispatch)));
      await dispatcher.dispatch(page.filter((job) => missing.has(job.id)).map(toDispatch));
      redispatched += missing.size;
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    await repository.forgetSilentWorkers();
    await repository.forgetOldScheduleRuns();
    return { ran: true, requeued: requeued.length, dead: expired.length - requeued.length, redispatched };
  } catch (error) {
    broken = error as Error;
    throw error;
  } finally {
    if (locked) await repository.unlock(LOCK_KEY).catch((error: Error) => (broken ??= error));
    // A connection that failed mid-pass may still hold the lock: destroy it rather than pool it.
    client.release(broken);
  }
}

/** Reconciles now and then every `intervalMs`, one pass at a time, until closed. */
export function startReconciler(options: ReconcilerOptions): { close: () => Promise<void> } {
  const pass = async (): Promise<void> => {
    try {
      const report = await reconcileOnce(options.pool, options.dispatcher);
      if (report.requeued + report.dead + report.redispatched > 0)
        options.logger.info(report, 'reconciler: jobs requeued or re-dispatched');
    } catch (error) {
      options.logger.warn({ err: error }, 'reconciler pass failed');
    }
  };
  return startPeriodic(pass, options.intervalMs);
}
