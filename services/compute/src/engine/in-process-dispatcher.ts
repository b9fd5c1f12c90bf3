import { createHeap, type Heap } from './priority-heap.ts';
import type { ConsumeOptions, Consumer, Dispatch, Dispatcher, Processed } from './dispatcher.ts';

interface Pending {
  id: string;
  queue: string;
  priority: number;
  /** Arrival order: equal priorities run first come, first served. */
  seq: number;
}

interface Taker {
  queues: ReadonlySet<string>;
  /** Free slots per queue. */
  free: Map<string, number>;
  process: (id: string) => Promise<Processed>;
  stopped: boolean;
  inFlight: Set<Promise<void>>;
}

/**
 * Embedded mode's queue: ids wait in memory (a priority heap per queue, timers
 * for delayed ones) and go to the in-process worker. Memory is lost with the
 * process; PostgreSQL is not, and the reconciler re-dispatches from it at start.
 */
export function createInProcessDispatcher(onError: (error: unknown) => void): Dispatcher {
  const ready = new Map<string, Heap<Pending>>();
  const delayed = new Map<string, NodeJS.Timeout>();
  /** Every id the executor holds: waiting, delayed or being processed. */
  const held = new Set<string>();
  const takers: Taker[] = [];
  let seq = 0;

  const heapOf = (queue: string): Heap<Pending> => {
    let heap = ready.get(queue);
    if (!heap) {
      heap = createHeap<Pending>(
        (a, b) => a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq),
      );
      ready.set(queue, heap);
    }
    return heap;
  };

  const makeReady = (job: Dispatch): void => {
    delayed.delete(job.id);
    heapOf(job.queue).push({ id: job.id, queue: job.queue, priority: job.priority, seq: seq++ });
    pump();
  };

  const enqueue = (job: Dispatch): void => {
    held.add(job.id);
    const wait = job.runAfter.getTime() - Date.now();
    if (wait <= 0) return makeReady(job);
    const timer = setTimeout(() => makeReady(job), wait);
    timer.unref();
    delayed.set(job.id, timer);
  };

  const run = (taker: Taker, job: Pending): void => {
    taker.free.set(job.queue, (taker.free.get(job.queue) ?? 0) - 1);
    const done = taker
      .process(job.id)
      .then(
        (processed) => {
          held.delete(job.id);
          if (processed.kind === 'later') enqueue({ ...job, runAfter: processed.at });
        },
        (error: unknown) => {
          // The job stays queued in PostgreSQL; the reconciler dispatches it again.
          held.delete(job.id);
          onError(error);
        },
      )
      .finally(() => {
        taker.inFlight.delete(done);
        taker.free.set(job.queue, (taker.free.get(job.queue) ?? 0) + 1);
        pump();
      });
    taker.inFlight.add(done);
  };

  function pump(): void {
    for (const taker of takers) {
      if (taker.stopped) continue;
      for (const queue of taker.queues) {
        const heap = ready.get(queue);
        while (heap && heap.size > 0 && (taker.free.get(queue) ?? 0) > 0) run(taker, heap.pop()!);
      }
    }
  }

  const dispatch = async (jobs: readonly Dispatch[]): Promise<void> => {
    for (const job of jobs) if (!held.has(job.id)) enqueue(job);
  };

  return {
    kind: 'in-process',
    dispatch,
    // A worker that died took its process, and this memory, with it: nothing stale to drop.
    redispatch: dispatch,
    missing: async (jobs) => jobs.filter((job) => !held.has(job.id)).map((job) => job.id),
    consume: (options: ConsumeOptions, process): Consumer => {
      const taker: Taker = {
        queues: new Set(options.queues),
        free: new Map(options.queues.map((queue) => [queue, options.concurrency])),
        process,
        stopped: false,
        inFlight: new Set(),
      };
      takers.push(taker);
      pump();
      return {
        stop: async () => {
          taker.stopped = true;
          await Promise.all(taker.inFlight);
          takers.splice(takers.indexOf(taker), 1);
        },
      };
    },
    close: async () => {
      for (const timer of delayed.values()) clearTimeout(timer);
      delayed.clear();
      ready.clear();
      held.clear();
    },
  };
}
