import { afterEach, describe, expect, it, vi } from 'vitest';
import { createVerifiedTokenCache } from '../auth/verified-cache.ts';
import { createBoundedLru } from './bounded-lru.ts';

const later = () => Date.now() + 60_000;

describe('a byte-bounded LRU', () => {
  it('never holds more than its budget, however many distinct keys arrive', () => {
    const lru = createBoundedLru<string>({ maxBytes: 10_000, sizeOf: (value) => value.length * 2 });
    for (let i = 0; i < 5_000; i++) lru.set(`key-${i}`, 'x'.repeat(100), later());
    expect(lru.bytes).toBeLessThanOrEqual(10_000);
    expect(lru.size).toBeGreaterThan(0);
    expect(lru.get('key-4999')).toBe('x'.repeat(100));
    expect(lru.get('key-0')).toBeUndefined();
  });

  it('lets the least recently used entry go first, not everything at once', () => {
    const lru = createBoundedLru<string>({ maxBytes: 1_000, sizeOf: () => 200 });
    lru.set('a', 'a', later());
    lru.set('b', 'b', later());
    lru.set('c', 'c', later());
    expect(lru.get('a')).toBe('a');
    lru.set('d', 'd', later());
    expect([lru.get('a'), lru.get('b'), lru.get('c'), lru.get('d')]).toEqual(['a', undefined, 'c', 'd']);
  });

  it('refuses an entry larger than the whole budget instead of emptying itself for it', () => {
    const lru = createBoundedLru<string>({ maxBytes: 1_000, sizeOf: (value) => value.length * 2 });
    lru.set('kept', 'small', later());
    lru.set('huge', 'y'.repeat(1_000), later());
    expect(lru.get('huge')).toBeUndefined();
    expect(lru.get('kept')).toBe('small');
  });

  it('forgets an entry once it expires, and by a predicate on the value', () => {
    const lru = createBoundedLru<{ owner: string }>({ maxBytes: 10_000, sizeOf: () => 50 });
    lru.set('gone', { owner: 'x' }, Date.now() - 1);
    lru.set('one', { owner: 'u1' }, later());
    lru.set('two', { owner: 'u2' }, later());
    lru.deleteWhere((value) => value.owner === 'u1');
    expect([lru.get('gone'), lru.get('one'), lru.get('two')]).toEqual([
      undefined,
      undefined,
      { owner: 'u2' },
    ]);
    expect(lru.size).toBe(1);
  });
});

describe('a byte-bounded LRU over time', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets go of expired entries nobody reads again, instead of filling up to its budget', () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
    const lru = createBoundedLru<string>({ maxBytes: 1_000_000, sizeOf: (value) => value.length * 2 });
    for (let minute = 0; minute < 30; minute++) {
      for (let i = 0; i < 100; i++) lru.set(`answer-${minute}-${i}`, 'x'.repeat(100), Date.now() + 60_000);
      vi.advanceTimersByTime(60_000);
    }
    lru.set('now', 'x', Date.now() + 60_000);
    // What was written within the last TTL, not thirty minutes' worth.
    expect(lru.size).toBeLessThanOrEqual(201);
    expect(lru.bytes).toBeLessThan(201 * 400);
    expect(lru.get('now')).toBe('x');
  });
});

describe('the verified-token cache', () => {
  it('costs the same for a 16 KB token as for a small one, and stays within its budget', () => {
    const cache = createVerifiedTokenCache(64 * 1024);
    const principal = {
      kind: 'user' as const,
      userId: 'u',
      email: 'u@example.test',
      role: 'viewer' as const,
    };
    const exp = Math.floor(Date.now() / 1000) + 60;
    cache.set('a'.repeat(16 * 1024), principal, exp);
    const one = cache.bytes;
    expect(one).toBeLessThan(1_000);
    for (let i = 0; i < 10_000; i++) cache.set(`${i}.${'t'.repeat(16 * 1024)}`, principal, exp);
    expect(cache.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(cache.get(`9999.${'t'.repeat(16 * 1024)}`)).toEqual(principal);
  });
});
