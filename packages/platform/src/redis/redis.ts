import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ConfigError } from '../config/config.ts';
import type { DependencyCheck } from '../server/health.ts';

export type { Redis } from 'ioredis';

export interface RedisOptions {
  url?: string | undefined;
  sentinels: readonly { host: string; port: number }[];
  sentinelName: string;
  connectTimeoutMs: number;
  logger: Logger;
}

export function isRedisConfigured(options: Pick<RedisOptions, 'url' | 'sentinels'>): boolean {
  return options.url !== undefined || options.sentinels.length > 0;
}

function build(options: RedisOptions): Redis {
  const common = {
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs,
    // Fail commands at once while disconnected instead of queueing them:
    // a cache miss or a 503 beats a request that hangs.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // A Redis that stops answering without closing the connection must not stall requests.
    commandTimeout: 2000,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    // Commands issued in the same event-loop turn (rate-limit hits and cache reads of concurrent
    // requests) go out as one write and come back as one read: fewer system calls on both sides.
    enableAutoPipelining: true,
  };
  if (options.sentinels.length > 0) {
    const fromUrl = options.url ? new URL(options.url) : undefined;
    return new Redis({
      ...common,
      sentinels: [...options.sentinels],
      name: options.sentinelName,
      password: fromUrl?.password ? decodeURIComponent(fromUrl.password) : undefined,
      db: fromUrl?.pathname.length && fromUrl.pathname.length > 1 ? Number(fromUrl.pathname.slice(1)) : 0,
    });
  }
  return new Redis(options.url ?? 'redis://127.0.0.1:6379', common);
}

export interface RedisConnection {
  client: Redis;
  /** A new connection with the same settings (pub/sub needs its own). */
  duplicate: () => Redis;
  dependency: DependencyCheck;
  close: () => Promise<void>;
}

/** Connects (standalone or through Sentinel) and proves Redis answers, naming the variable when it does not. */
export async function connectRedis(options: RedisOptions): Promise<RedisConnection> {
  const client = build(options);
  const extra: Redis[] = [];
  // Until the first connection works, failures are reported once, by the ConfigError below.
  const quiet = (): void => undefined;
  client.on('error', quiet);
  try {
    await client.connect();
    await client.ping();
    client.off('error', quiet);
    client.on('error', (error: Error) =>
      options.logger.warn({ err: error.message }, 'redis connection error'),
    );
  } catch (error) {
    client.disconnect();
    const variable = options.sentinels.length > 0 ? 'REDIS_SENTINELS' : 'REDIS_URL';
    const reason =
      error instanceof Error ? ((error as { code?: string }).code ?? error.message) : String(error);
    throw new ConfigError(variable, `cannot be reached: ${reason}`);
  }
  return {
    client,
    duplicate: () => {
      const copy = client.duplicate({ enableOfflineQueue: true, enableAutoPipelining: false });
      copy.on('error', (error: Error) =>
        options.logger.warn({ err: error.message }, 'redis connection error'),
      );
      extra.push(copy);
      return copy;
    },
    dependency: { name: 'redis', check: async () => void (await client.ping()) },
    close: async () => {
      await Promise.allSettled([client, ...extra].map((connection) => connection.quit()));
    },
  };
}
