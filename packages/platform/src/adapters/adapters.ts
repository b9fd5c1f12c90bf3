import type { RedisConnection } from '../redis/redis.ts';
import type { DependencyCheck } from '../server/health.ts';
import { createMemoryCache, createRedisCache, type Cache } from './cache.ts';
import { createMemoryEvents, createRedisEvents, type Events } from './events.ts';
import { createMemoryRateLimitStore, createRedisRateLimitStore, type RateLimitStore } from './rate-limit.ts';
import { createMemoryRegistry, createRedisRegistry, type ServiceRegistry } from './registry.ts';

/** The shared-state ports every service sees, backed by Redis or by memory. */
export interface Adapters {
  kind: 'redis' | 'memory';
  cache: Cache;
  events: Events;
  rateLimits: RateLimitStore;
  registry: ServiceRegistry;
  dependencies: DependencyCheck[];
  close: () => Promise<void>;
}

export interface AdapterOptions {
  cacheMaxBytes: number;
  /** An instance missing heartbeats this long leaves the registry. */
  registryTtlMs: number;
  /** Prefix of every Redis key and channel. */
  redisPrefix?: string;
}

/** In-process adapters. In embedded mode all five services share one set, as they share one process. */
export function createMemoryAdapters(options: AdapterOptions): Adapters {
  const events = createMemoryEvents();
  return {
    kind: 'memory',
    cache: createMemoryCache(options.cacheMaxBytes),
    events,
    rateLimits: createMemoryRateLimitStore(),
    registry: createMemoryRegistry(options.registryTtlMs),
    dependencies: [],
    close: () => events.close(),
  };
}

export function createRedisAdapters(redis: RedisConnection, options: AdapterOptions): Adapters {
  const prefix = options.redisPrefix ?? 'datalab:';
  const events = createRedisEvents(redis.client, redis.duplicate(), `${prefix}events:`);
  return {
    kind: 'redis',
    cache: createRedisCache(redis.client, `${prefix}cache:`),
    events,
    rateLimits: createRedisRateLimitStore(redis.client, `${prefix}ratelimit:`),
    registry: createRedisRegistry(redis.client, `${prefix}registry:`, options.registryTtlMs),
    dependencies: [redis.dependency],
    close: async () => {
      await events.close();
      await redis.close();
    },
  };
}
