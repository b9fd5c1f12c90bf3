import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '@datalab/platform';
import type { ConsumeOptions, Consumer, Dispatch, Dispatcher } from './dispatcher.ts';
import { connectBullRedis, whenReady, type RedisSettings } from './redis-connection.ts';

export interface BullmqDispatcherOptions {
  redis: RedisSettings;
  /** Key prefix of every queue: REDIS_PREFIX + `jobs`, beside the platform's other keys. */
  prefix: string;
  /** BullMQ's own lock follows the job lease, so a dead worker's delivery comes back as soon. */
  leaseMs: number;
  logger: Logger;
}

/** Our 0–100 (higher first) onto BullMQ's 1–101 (lower first); every job is prioritised so the order holds. */
const bullPriority = (priority: number): number => 101 - priority;

/**
 * Distributed mode's queue: one BullMQ queue per job queue, the BullMQ job id
 * being our job id (adding an id BullMQ holds is a no-op) and the job carrying
 * nothing else. Finished deliveries are removed at once, so the id can be
 * dispatched again (a retry via the API); a retry after a failure moves the
 * same delivery back to delayed instead of adding a new one.
 */
export function createBullmqDispatcher(options: BullmqDispatcherOptions): Dispatcher {
  const connection = connectBullRedis(options.redis, options.logger, false);
  const queues = new Map<string, Queue>();
  const queueFor = (name: string): Queue => {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection, prefix: options.prefix, streams: { events: { maxLen: 100 } } });
      queue.on('error', (error: Error) =>
        options.logger.warn({ err: error.message, queue: name }, 'job queue error'),
      );
      queues.set(name, queue);
    }
    return queue;
  };
  const byQueue = (jobs: readonly Dispatch[]): Map<string, Dispatch[]> => {
    const groups = new Map<string, Dispatch[]>();
    for (const job of jobs) {
      const group = groups.get(job.queue);
      if (group) group.push(job);
      else groups.set(job.queue, [job]);
    }
    return groups;
  };

  const dispatch = async (jobs: readonly Dispatch[]): Promise<void> => {
    const now = Date.now();
    await Promise.all(
      [...byQueue(jobs)].map(([name, group]) =>
        queueFor(name).addBulk(
          group.map((job) => ({
            name: 'job',
            data: {},
            opts: {
              jobId: job.id,
              priority: bullPriority(job.priority),
              delay: Math.max(0, job.runAfter.getTime() - now),
              removeOnComplete: true,
              removeOnFail: true,
            },
          })),
        ),
      ),
    );
  };

  return {
    kind: 'bullmq',
    dispatch,
    redispatch: async (jobs) => {
      // Removal fails (harmlessly) while the old worker still holds BullMQ's lock: it is alive after all,
      // and its delivery comes back to the job once its attempt finds the job no longer its own.
      await Promise.all(
        jobs.map((job) =>
          queueFor(job.queue)
            .remove(job.id)
            .catch(() => 0),
        ),
      );
      await dispatch(jobs);
    },
    missing: async (jobs) => {
      if (jobs.length === 0) return [];
      await whenReady(connection, options.redis.databaseConnectTimeoutMs);
      const pipeline = connection.pipeline();
      for (const job of jobs) pipeline.exists(queueFor(job.queue).toKey(job.id));
      const answers = (await pipeline.exec()) ?? [];
      return jobs.filter((_job, index) => answers[index]?.[1] === 0).map((job) => job.id);
    },
    consume: (consume: ConsumeOptions, process): Consumer => {
      const connections: Redis[] = [];
      const workers = consume.queues.map((name) => {
        const redis = connectBullRedis(options.redis, options.logger, true);
        connections.push(redis);
        const worker = new Worker(
          name,
          async (job: Job, token?: string) => {
            const processed = await process(job.id!);
            if (processed.kind === 'done') return;
            await job.moveToDelayed(processed.at.getTime(), token);
            throw new DelayedError();
          },
          {
            connection: redis,
            prefix: options.prefix,
            concurrency: consume.concurrency,
            lockDuration: options.leaseMs,
            stalledInterval: options.leaseMs,
            removeOnComplete: { count: 0 },
            removeOnFail: { count: 0 },
          },
        );
        worker.on('error', (error: Error) =>
          options.logger.warn({ err: error.message, queue: name }, 'job queue worker error'),
        );
        return worker;
      });
      return {
        stop: async () => {
          await Promise.all(workers.map((worker) => worker.close()));
          await Promise.allSettled(connections.map((redis) => redis.quit()));
        },
      };
    },
    close: async () => {
      await Promise.allSettled([...queues.values()].map((queue) => queue.close()));
      await connection.quit().catch(() => undefined);
    },
  };
}
