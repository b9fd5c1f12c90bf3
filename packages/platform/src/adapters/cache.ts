import type { Redis } from 'ioredis';
import { createBoundedLru } from './bounded-lru.ts';

/** A byte cache with per-entry expiry. Misses, not errors, when the backend is unreachable. */
export interface Cache {
  get: (key: string) => Promise<Buffer | undefined>;
  set: (key: string, value: Buffer, ttlSeconds: number) => Promise<void>;
  delete: (key: string) => Promise<void>;
}

/** In-process LRU bounded by total bytes (values and keys), for embedded mode. */
export function createMemoryCache(maxBytes: number): Cache {
  const entries = createBoundedLru<Buffer>({ maxBytes, sizeOf: (value) => value.length });
  return {
    get: async (key) => entries.get(key),
    set: async (key, value, ttlSeconds) => entries.set(key, value, Date.now() + ttlSeconds * 1000),
    delete: async (key) => entries.delete(key),
  };
}

/**
 * Reads and writes that fail (Redis unreachable) are misses and no-ops, as the
 * `Cache` contract says: the caller falls back to the source of truth. A failed
 * `delete` still throws, so an invalidation is never lost silently.
 */
export function createRedisCache(redis: Redis, prefix: string): Cache {
  return {
    get: async (key) => (await redis.getBuffer(prefix + key).catch(() => null)) ?? undefined,
    set: async (key, value, ttlSeconds) => {
      // PX, not EX: EX refuses fractional seconds, which the memory cache accepts.
      const ttlMs = Math.max(1, Math.round(ttlSeconds * 1000));
      await redis.set(prefix + key, value, 'PX', ttlMs).catch(() => undefined);
    },
    delete: async (key) => void (await redis.del(prefix + key)),
  };
}
