import type { Redis } from 'ioredis';

/** A byte cache with per-entry expiry. Misses, not errors, when the backend is unreachable. */
export interface Cache {
  get: (key: string) => Promise<Buffer | undefined>;
  set: (key: string, value: Buffer, ttlSeconds: number) => Promise<void>;
  delete: (key: string) => Promise<void>;
}

interface Entry {
  value: Buffer;
  expiresAt: number;
}

/** In-process LRU bounded by total bytes, for embedded mode. */
export function createMemoryCache(maxBytes: number): Cache {
  const entries = new Map<string, Entry>();
  let bytes = 0;
  const remove = (key: string): void => {
    const entry = entries.get(key);
    if (!entry) return;
    bytes -= entry.value.length;
    entries.delete(key);
  };
  return {
    get: async (key) => {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt <= Date.now()) {
        remove(key);
        return undefined;
      }
      // Re-insert so the Map's order is least-recently-used first.
      entries.delete(key);
      entries.set(key, entry);
      return entry.value;
    },
    set: async (key, value, ttlSeconds) => {
      remove(key);
      if (value.length > maxBytes) return;
      entries.set(key, { value, expiresAt: Date.now() + ttlSeconds * 1000 });
      bytes += value.length;
      for (const oldest of entries.keys()) {
        if (bytes <= maxBytes) break;
        remove(oldest);
      }
    },
    delete: async (key) => remove(key),
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
