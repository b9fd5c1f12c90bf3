import { createMemoryCache, type Cache } from '@datalab/platform';
import { describe, expect, it } from 'vitest';
import { createRenderCache } from './render.cache.ts';

/** A real in-memory shared cache, counting the reads that reach it. */
function sharedCache(): { cache: Cache; reads: () => number } {
  const inner = createMemoryCache(10 * 1024 * 1024);
  let reads = 0;
  return {
    cache: {
      ...inner,
      get: async (key) => {
        reads += 1;
        return inner.get(key);
      },
    },
    reads: () => reads,
  };
}

const bytes = (fill: number, length = 100): Buffer => Buffer.alloc(length, fill);

describe('the render cache kept in the process', () => {
  it('answers recent renders itself, dropping the least recently used beyond its budget', async () => {
    const shared = sharedCache();
    const renders = createRenderCache(shared.cache, 60, 1024, 250);
    await renders.set('a', bytes(1));
    await renders.set('b', bytes(2));
    expect(await renders.get('a')).toEqual(bytes(1));
    await renders.set('c', bytes(3));
    expect(shared.reads()).toBe(0);

    expect(await renders.get('b')).toEqual(bytes(2));
    expect(shared.reads()).toBe(1);
    expect(await renders.get('b')).toEqual(bytes(2));
    expect(shared.reads()).toBe(1);
    expect(await renders.get('missing')).toBeUndefined();
    expect(shared.reads()).toBe(2);
  });

  it('leaves renders larger than its budget to the shared cache', async () => {
    const shared = sharedCache();
    const renders = createRenderCache(shared.cache, 60, 1024, 250);
    await renders.set('big', bytes(4, 300));
    expect(await renders.get('big')).toEqual(bytes(4, 300));
    expect(await renders.get('big')).toEqual(bytes(4, 300));
    expect(shared.reads()).toBe(2);
  });

  it('keeps nothing when the cache is off', async () => {
    const shared = sharedCache();
    const renders = createRenderCache(shared.cache, 0, 1024, 250);
    await renders.set('a', bytes(1));
    expect(await renders.get('a')).toBeUndefined();
  });
});
