import { Redis, type RedisOptions } from 'ioredis';
import type { CommonConfig, Logger } from '@datalab/platform';

/** What BullMQ's connections need from the common configuration (REDIS_URL or Sentinels). */
export type RedisSettings = Pick<
  CommonConfig,
  'redisUrl' | 'redisSentinels' | 'redisSentinelName' | 'databaseConnectTimeoutMs'
>;

/**
 * A connection for BullMQ. Workers block on Redis, so theirs must wait through
 * outages (`waitForever`); the dispatcher's fails fast instead, so submitting a
 * job never hangs on Redis: the job is in PostgreSQL and the reconciler dispatches it later.
 */
export function connectBullRedis(settings: RedisSettings, logger: Logger, waitForever: boolean): Redis {
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: settings.databaseConnectTimeoutMs,
    maxRetriesPerRequest: waitForever ? null : 1,
    enableOfflineQueue: waitForever,
    // Commands issued in one turn of the event loop leave in one write: a worker running many
    // jobs sends two BullMQ scripts per job, and each write costs both processes a system call.
    enableAutoPipelining: true,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
  };
  let redis: Redis;
  if (settings.redisSentinels.length > 0) {
    const fromUrl = settings.redisUrl ? new URL(settings.redisUrl) : undefined;
    redis = new Redis({
      ...options,
      sentinels: [...settings.redisSentinels],
      name: settings.redisSentinelName,
      ...(fromUrl?.password ? { password: decodeURIComponent(fromUrl.password) } : {}),
      db: fromUrl && fromUrl.pathname.length > 1 ? Number(fromUrl.pathname.slice(1)) : 0,
    });
  } else {
    redis = new Redis(settings.redisUrl ?? 'redis://127.0.0.1:6379', options);
  }
  redis.on('error', (error: Error) =>
    logger.warn({ err: error.message }, 'job queue: redis connection error'),
  );
  return redis;
}

/** Connects a lazy connection on first use; fails after `timeoutMs` rather than queueing commands. */
export async function whenReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  if (redis.status === 'wait') return void (await redis.connect());
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
