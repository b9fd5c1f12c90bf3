/** A job id on its way to a worker. Everything else about the job is read from PostgreSQL. */
export interface Dispatch {
  id: string;
  queue: string;
  /** 0–100, higher first. */
  priority: number;
  /** Not delivered before this time. */
  runAfter: Date;
}

/** What the worker made of a delivery: finished with it, or deliver it again later (retry backoff, handed back). */
export type Processed = { kind: 'done' } | { kind: 'later'; at: Date };

export interface ConsumeOptions {
  queues: readonly string[];
  /** Deliveries in progress at once, per queue. */
  concurrency: number;
}

/** Takes deliveries until stopped. */
export interface Consumer {
  /** Stops taking new deliveries; resolves once those in progress have been processed. */
  stop: () => Promise<void>;
}

/**
 * Carries job ids from whoever submits or reconciles to the workers: BullMQ on
 * Redis in distributed mode, an in-process executor in embedded mode. Dispatching
 * an id the queue already holds does nothing, so a job is never queued twice.
 */
export interface Dispatcher {
  kind: 'bullmq' | 'in-process';
  dispatch: (jobs: readonly Dispatch[]) => Promise<void>;
  /**
   * Dispatches jobs whose worker died: the delivery that worker held is dropped
   * first where the queue still has it, so the job need not wait for the queue's
   * own stall detection.
   */
  redispatch: (jobs: readonly Dispatch[]) => Promise<void>;
  /** The ids among these that the queue does not hold (lost, e.g. Redis flushed). */
  missing: (jobs: readonly Dispatch[]) => Promise<string[]>;
  /** `process` never throws for a job's own failure; it does when the database cannot be reached. */
  consume: (options: ConsumeOptions, process: (id: string) => Promise<Processed>) => Consumer;
  close: () => Promise<void>;
}
