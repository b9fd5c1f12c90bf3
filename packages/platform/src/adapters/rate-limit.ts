import type { Redis } from 'ioredis';

export interface RateLimitHit {
  /** Hits in the current window, this one included (a hit of cost n counts n). */
  count: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/** Fixed-window counters shared by every gateway instance. */
export interface RateLimitStore {
  /** Adds `cost` (default 1) to the key's count in its current window. */
  hit: (key: string, windowMs: number, cost?: number) => Promise<RateLimitHit>;
}

export function createMemoryRateLimitStore(): RateLimitStore {
  const windows = new Map<string, { count: number; resetAt: number }>();
  let lastSweep = Date.now();
  return {
    hit: async (key, windowMs, cost = 1) => {
      const now = Date.now();
      if (now - lastSweep > 60_000) {
        for (const [k, w] of windows) if (w.resetAt <= now) windows.delete(k);
        lastSweep = now;
      }
      let current = windows.get(key);
      if (!current || current.resetAt <= now) {
        current = { count: 0, resetAt: now + windowMs };
        windows.set(key, current);
      }
      current.count += cost;
      return { count: current.count, resetMs: current.resetAt - now };
    },
  };
}

// INCRBY and set the expiry on the first hit, atomically, so a window always ends.
const HIT_SCRIPT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
`;

type RateLimitRedis = Redis & {
  datalabRateLimitHit: (key: string, windowMs: number, cost: number) => Promise<[number, number]>;
};

export function createRedisRateLimitStore(redis: Redis, prefix: string): RateLimitStore {
  // A defined command is sent as EVALSHA (the script's hash), not the whole script on every call.
  if (!('datalabRateLimitHit' in redis))
    redis.defineCommand('datalabRateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
  const client = redis as RateLimitRedis;
  return {
    hit: async (key, windowMs, cost = 1) => {
      const [count, ttl] = await client.datalabRateLimitHit(prefix + key, windowMs, cost);
      return { count, resetMs: ttl };
    },
  };
}
