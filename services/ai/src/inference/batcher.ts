import CircuitBreaker from 'opossum';
import { AppError } from '@datalab/platform';
import type { LoadedModel, Prediction, Row } from './loaded-model.ts';
import type { InferenceMetrics } from './inference.metrics.ts';

export interface BatchingOptions {
  /** Most rows merged into one run; 1 means every request runs on its own. */
  maxBatchRows: number;
  /** How long the oldest waiting request may wait for company before a run starts. */
  maxWaitMs: number;
  /** Runs of this model in flight at once. */
  concurrency: number;
  /** Rows waiting beyond which new requests are refused (503). */
  queueLimit: number;
  /** How long the circuit stays open after the runtime kept failing. */
  breakerResetMs: number;
}

interface Waiting {
  rows: readonly Row[];
  since: number;
  resolve: (predictions: Prediction[]) => void;
  reject: (error: unknown) => void;
}

export interface Batcher {
  /** Queues the rows; resolves with one prediction per row, in order. */
  submit: (rows: readonly Row[]) => Promise<Prediction[]>;
  queuedRows: () => number;
  /** Nothing waiting and nothing running: the model may be unloaded. */
  idle: () => boolean;
  close: () => void;
}

/**
 * Dynamic micro-batching for one model: concurrent requests wait up to
 * `maxWaitMs` (less when a batch fills) and share one runtime call, which
 * runs behind a circuit breaker so a broken model fails fast.
 */
export function createBatcher(
  model: LoadedModel,
  options: BatchingOptions,
  metrics: InferenceMetrics,
): Batcher {
  const queue: Waiting[] = [];
  let queued = 0;
  let running = 0;
  let timer: NodeJS.Timeout | undefined;
  const perRun = Math.min(model.maxRowsPerRun, model.batchable ? options.maxBatchRows : Infinity);

  const breaker = new CircuitBreaker((rows: readonly Row[]) => model.run(rows), {
    timeout: false,
    errorThresholdPercentage: 50,
    volumeThreshold: 5,
    resetTimeout: options.breakerResetMs,
  });

  const take = (): Waiting[] => {
    const batch: Waiting[] = [queue.shift()!];
    let rows = batch[0]!.rows.length;
    if (model.batchable) {
      while (queue.length > 0 && rows + queue[0]!.rows.length <= perRun) {
        const next = queue.shift()!;
        rows += next.rows.length;
        batch.push(next);
      }
    }
    queued -= rows;
    return batch;
  };

  const run = async (batch: Waiting[]): Promise<void> => {
    const rows = batch.length === 1 ? batch[0]!.rows : batch.flatMap((item) => item.rows);
    metrics.batchRows.observe(rows.length);
    const stop = metrics.runDuration.startTimer({ provider: model.provider });
    try {
      const predictions = await breaker.fire(rows);
      stop();
      let at = 0;
      for (const item of batch) {
        item.resolve(predictions.slice(at, at + item.rows.length));
        at += item.rows.length;
      }
    } catch (error) {
      stop();
      const failure = breaker.opened
        ? new AppError('unavailable', 'The model keeps failing; its circuit is open, try again later', {
            headers: { 'retry-after': String(Math.ceil(options.breakerResetMs / 1000)) },
            cause: error,
          })
        : error;
      for (const item of batch) item.reject(failure);
    }
  };

  const schedule = (): void => {
    while (running < options.concurrency && queue.length > 0) {
      const waited = Date.now() - queue[0]!.since;
      const full = queued >= perRun || !model.batchable;
      if (!full && waited < options.maxWaitMs) {
        timer ??= setTimeout(() => {
          timer = undefined;
          schedule();
        }, options.maxWaitMs - waited);
        return;
      }
      running += 1;
      void run(take()).finally(() => {
        running -= 1;
        schedule();
      });
    }
  };

  const enqueue = (rows: readonly Row[]): Promise<Prediction[]> =>
    new Promise((resolve, reject) => {
      queue.push({ rows, since: Date.now(), resolve, reject });
      queued += rows.length;
    });

  return {
    submit: async (rows) => {
      if (breaker.opened)
        throw new AppError('unavailable', 'The model keeps failing; its circuit is open, try again later', {
          headers: { 'retry-after': String(Math.ceil(options.breakerResetMs / 1000)) },
        });
      if (queued + rows.length > options.queueLimit) {
        metrics.rejected.inc({ reason: 'queue_full' });
        throw new AppError(
          'unavailable',
          `The model's queue is full (${options.queueLimit} rows); retry shortly`,
          {
            headers: { 'retry-after': '1' },
          },
        );
      }
      // A fixed batch dimension caps a run: a larger request is cut into runs of that size.
      const chunks: Promise<Prediction[]>[] = [];
      const chunk = Number.isFinite(model.maxRowsPerRun) ? model.maxRowsPerRun : rows.length;
      for (let at = 0; at < rows.length; at += chunk) chunks.push(enqueue(rows.slice(at, at + chunk)));
      schedule();
      return (await Promise.all(chunks)).flat();
    },
    queuedRows: () => queued,
    idle: () => queue.length === 0 && running === 0,
    close: () => {
      if (timer) clearTimeout(timer);
      breaker.shutdown();
    },
  };
}
