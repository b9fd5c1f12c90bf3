import { Worker } from 'node:worker_threads';
import { AppError, workerThreadUrl, type Logger } from '@datalab/platform';
import type { WorkerReply, WorkerTask } from './render.worker.ts';

export interface RenderPoolOptions {
  /** Render threads; renders beyond that wait in line. */
  size: number;
  /** A task running longer is stopped by ending its thread. */
  timeoutMs: number;
  /** Heap of each thread: a render that needs more ends its thread, not the process. */
  memoryMb: number;
  logger: Logger;
  /** Idle threads do not keep the process alive (job workers, which have no app to close the pool). */
  unref?: boolean;
}

interface Job {
  id: number;
  task: WorkerTask;
  resolve: (reply: Extract<WorkerReply, { ok: true }>) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  worker: Worker;
  /** Loaded and waiting for work: start-up (loading Vega) never counts against a render's time. */
  ready: boolean;
  /** Being stopped: takes no more work. */
  ending: boolean;
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Vega, resvg and PDFKit run in worker threads: a render never blocks the
 * event loop (health checks, cache hits and 304s keep answering), a render
 * that runs too long is really stopped, and one that needs too much memory
 * ends its own thread only.
 */
export function createRenderPool(options: RenderPoolOptions) {
  const slots: Slot[] = [];
  const waiting: Job[] = [];
  let nextId = 1;
  let closed = false;

  function fail(slot: Slot, error: AppError): void {
    const { job } = slot;
    clearTimeout(slot.timer);
    slot.job = undefined;
    job?.reject(error);
  }

  function spawn(): Slot {
    const slot: Slot = {
      worker: new Worker(workerThreadUrl(import.meta.url, 'render.worker'), {
        resourceLimits: { maxOldGenerationSizeMb: options.memoryMb },
      }),
      ready: false,
      ending: false,
      job: undefined,
      timer: undefined,
    };
    slot.worker.on('message', (reply: WorkerReply | 'ready') => {
      if (reply === 'ready') {
        slot.ready = true;
        dispatch();
        return;
      }
      const { job } = slot;
      if (!job || job.id !== reply.id) return;
      clearTimeout(slot.timer);
      slot.job = undefined;
      if (reply.ok) job.resolve(reply);
      else if (reply.kind === 'internal') job.reject(new Error(reply.message));
      else job.reject(new AppError(reply.kind, reply.message, reply.errors ? { errors: reply.errors } : {}));
      dispatch();
    });
    slot.worker.on('error', (error: Error & { code?: string }) => {
      const memory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      options.logger.warn({ err: error }, 'render thread failed');
      fail(
        slot,
        memory
          ? new AppError(
              'too_large',
              `The render needed more than ${options.memoryMb} MiB (VIZ_RENDER_WORKER_MEMORY_MB) and was stopped; draw fewer marks`,
            )
          : new AppError('unavailable', 'The render thread failed; try again'),
      );
    });
    slot.worker.on('exit', () => {
      slots.splice(slots.indexOf(slot), 1);
      fail(slot, new AppError('unavailable', 'The render thread stopped; try again'));
      if (!closed) dispatch();
    });
    if (options.unref) slot.worker.unref();
    slots.push(slot);
    return slot;
  }

  function dispatch(): void {
    while (waiting.length > 0) {
      const slot = slots.find((candidate) => candidate.ready && !candidate.job && !candidate.ending);
      if (!slot) {
        // More threads while jobs outnumber those starting, up to the pool's size; jobs wait for the first free one.
        const starting = slots.filter((candidate) => !candidate.ready && !candidate.ending).length;
        if (slots.length < options.size && starting < waiting.length) spawn();
        return;
      }
      const job = waiting.shift()!;
      slot.job = job;
      slot.timer = setTimeout(() => {
        slot.ending = true;
        fail(
          slot,
          new AppError('unavailable', `The render took longer than ${options.timeoutMs} ms and was stopped`),
        );
        void slot.worker.terminate();
      }, options.timeoutMs);
      slot.worker.postMessage({ id: job.id, task: job.task });
    }
  }

  function run(task: WorkerTask): Promise<Extract<WorkerReply, { ok: true }>> {
    if (closed) return Promise.reject(new AppError('unavailable', 'The viz-service is shutting down'));
    return new Promise((resolve, reject) => {
      waiting.push({ id: nextId++, task, resolve, reject });
      dispatch();
    });
  }

  return {
    run,
    close: async () => {
      closed = true;
      for (const job of waiting.splice(0))
        job.reject(new AppError('unavailable', 'The viz-service is shutting down'));
      await Promise.all(slots.map((slot) => slot.worker.terminate()));
    },
  };
}

export type RenderPool = ReturnType<typeof createRenderPool>;
