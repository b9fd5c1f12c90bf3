import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { memoryAdapters, redisAdapters, silentLogger, uniqueName } from '../../../../test/helpers.ts';
import { startTcpProxy, throughProxy } from '../../../../test/tcp-proxy.ts';
import { connectRedis } from '../redis/redis.ts';
import type { Adapters } from './adapters.ts';
import { createRedisCache } from './cache.ts';
import type { Events } from './events.ts';

/** Collects what a subscription receives; `next` waits for the next message not yet read. */
async function listen(events: Events, channel: string) {
  const received: unknown[] = [];
  const unsubscribe = await events.subscribe(channel, (message) => void received.push(message));
  let read = 0;
  const next = async (): Promise<unknown> => {
    await vi.waitFor(() => expect(received.length).toBeGreaterThan(read), { timeout: 3000, interval: 10 });
    return received[read++];
  };
  return { received, next, unsubscribe };
}

const backends: [string, boolean, () => Adapters | Promise<Adapters>][] = [
  ['memory', true, memoryAdapters],
  ['redis', Boolean(inject('redisUrl')), redisAdapters],
];

describe.each(backends)('%s adapters', (kind, available, create) => {
  describe.skipIf(!available)('keep the shared-state contract', () => {
    let adapters: Adapters;

    beforeAll(async () => {
      adapters = await create();
    });
    afterAll(async () => {
      await adapters.close();
    });

    it(`is the ${kind} kind`, () => {
      expect(adapters.kind).toBe(kind);
    });

    it('stores, reads and deletes cache entries', async () => {
      const key = uniqueName('cache');
      const value = Buffer.from(`value of ${key}`);
      expect(await adapters.cache.get(key)).toBeUndefined();
      await adapters.cache.set(key, value, 60);
      expect(await adapters.cache.get(key)).toEqual(value);
      await adapters.cache.set(key, Buffer.from('replaced'), 60);
      expect((await adapters.cache.get(key))?.toString()).toBe('replaced');
      await adapters.cache.delete(key);
      expect(await adapters.cache.get(key)).toBeUndefined();
    });

    it('forgets a cache entry once its TTL has passed', async () => {
      const key = uniqueName('expiring');
      await adapters.cache.set(key, Buffer.from('short-lived'), 1);
      expect(await adapters.cache.get(key)).toBeDefined();
      await sleep(1300);
      expect(await adapters.cache.get(key)).toBeUndefined();
    });

    it('honours a TTL below one second', async () => {
      const key = uniqueName('brief');
      await adapters.cache.set(key, Buffer.from('brief'), 0.2);
      expect(await adapters.cache.get(key)).toBeDefined();
      await sleep(400);
      expect(await adapters.cache.get(key)).toBeUndefined();
    });

    it('delivers published JSON messages to every subscriber until they unsubscribe', async () => {
      const channel = uniqueName('channel');
      const first = await listen(adapters.events, channel);
      const second = await listen(adapters.events, channel);
      const message = { id: uniqueName('job'), progress: 0.5, steps: ['load', 'parse'], done: false };

      await adapters.events.publish(channel, message);
      expect(await first.next()).toEqual(message);
      expect(await second.next()).toEqual(message);

      await first.unsubscribe();
      await adapters.events.publish(channel, { id: 'after' });
      expect(await second.next()).toEqual({ id: 'after' });
      // The second subscriber got the later message, so the first one would have by now.
      expect(first.received).toHaveLength(1);
      await second.unsubscribe();
    });

    it('delivers a message only on its own channel', async () => {
      const mine = await listen(adapters.events, uniqueName('mine'));
      const otherChannel = uniqueName('other');
      const other = await listen(adapters.events, otherChannel);
      await adapters.events.publish(otherChannel, 'for other');
      expect(await other.next()).toBe('for other');
      expect(mine.received).toEqual([]);
      await mine.unsubscribe();
      await other.unsubscribe();
    });

    it('counts rate-limit hits in a window and starts again after it', async () => {
      const key = uniqueName('client');
      const hits = [];
      for (let i = 0; i < 3; i++) hits.push(await adapters.rateLimits.hit(key, 1000));
      expect(hits.map((hit) => hit.count)).toEqual([1, 2, 3]);
      for (const hit of hits) {
        expect(hit.resetMs).toBeGreaterThan(0);
        expect(hit.resetMs).toBeLessThanOrEqual(1000);
      }
      expect((await adapters.rateLimits.hit(uniqueName('someone-else'), 1000)).count).toBe(1);
      await sleep(1100);
      expect((await adapters.rateLimits.hit(key, 1000)).count).toBe(1);
    });

    it('counts a hit of cost n as n hits, and the window still ends', async () => {
      const key = uniqueName('batch');
      expect((await adapters.rateLimits.hit(key, 60_000, 40)).count).toBe(40);
      const next = await adapters.rateLimits.hit(key, 60_000);
      expect(next.count).toBe(41);
      expect(next.resetMs).toBeGreaterThan(0);
      expect(next.resetMs).toBeLessThanOrEqual(60_000);
    });

    it('lists announced instances until they withdraw', async () => {
      const service = uniqueName('service');
      const one = { service, instanceId: uniqueName('one'), url: 'http://10.0.0.1:8001' };
      const two = { service, instanceId: uniqueName('two'), url: 'http://10.0.0.2:8001' };
      const before = Date.now();
      await adapters.registry.announce(one);
      await adapters.registry.announce(two);

      const listed = await adapters.registry.list(service);
      expect(listed.map((i) => i.instanceId).sort()).toEqual([one.instanceId, two.instanceId].sort());
      expect(listed.find((i) => i.instanceId === one.instanceId)).toMatchObject(one);
      for (const instance of listed) expect(instance.lastSeen).toBeGreaterThanOrEqual(before);
      expect(await adapters.registry.list(uniqueName('unknown-service'))).toEqual([]);

      await adapters.registry.withdraw(service, one.instanceId);
      expect((await adapters.registry.list(service)).map((i) => i.instanceId)).toEqual([two.instanceId]);
      await adapters.registry.withdraw(service, two.instanceId);
      expect(await adapters.registry.list(service)).toEqual([]);
    });

    it('drops an instance that stops heartbeating for longer than the registry TTL', async () => {
      const service = uniqueName('service');
      const silent = { service, instanceId: uniqueName('silent'), url: 'http://10.0.0.3:8001' };
      const beating = { service, instanceId: uniqueName('beating'), url: 'http://10.0.0.4:8001' };
      await adapters.registry.announce(silent);
      await adapters.registry.announce(beating);
      await sleep(600);
      await adapters.registry.announce(beating);
      await sleep(600);
      expect((await adapters.registry.list(service)).map((i) => i.instanceId)).toEqual([beating.instanceId]);
      await adapters.registry.withdraw(service, beating.instanceId);
    });
  });
});

describe('memory cache', () => {
  const adapters = memoryAdapters();
  afterAll(() => adapters.close());

  it('evicts the least recently used entries once its byte bound (1 MiB) is exceeded', async () => {
    const [a, b, c] = [uniqueName('a'), uniqueName('b'), uniqueName('c')];
    const chunk = (): Buffer => Buffer.alloc(400 * 1024, 1);
    await adapters.cache.set(a, chunk(), 60);
    await adapters.cache.set(b, chunk(), 60);
    expect(await adapters.cache.get(a)).toBeDefined();
    await adapters.cache.set(c, chunk(), 60);

    expect(await adapters.cache.get(a)).toBeDefined();
    expect(await adapters.cache.get(b)).toBeUndefined();
    expect(await adapters.cache.get(c)).toBeDefined();
  });

  it('does not keep a value larger than the whole bound, nor evict others for it', async () => {
    const small = uniqueName('small');
    const huge = uniqueName('huge');
    await adapters.cache.set(small, Buffer.from('kept'), 60);
    await adapters.cache.set(huge, Buffer.alloc(2 << 20), 60);
    expect(await adapters.cache.get(huge)).toBeUndefined();
    expect((await adapters.cache.get(small))?.toString()).toBe('kept');
  });
});

describe.skipIf(!inject('redisUrl'))('two Redis adapter instances (two gateway instances)', () => {
  let first: Adapters;
  let second: Adapters;

  beforeAll(async () => {
    [first, second] = await Promise.all([redisAdapters(), redisAdapters()]);
  });
  afterAll(async () => {
    await Promise.all([first.close(), second.close()]);
  });

  it('share one rate-limit count', async () => {
    const key = uniqueName('client');
    expect((await first.rateLimits.hit(key, 5000)).count).toBe(1);
    expect((await second.rateLimits.hit(key, 5000)).count).toBe(2);
    expect((await first.rateLimits.hit(key, 5000)).count).toBe(3);
  });

  it('share one registry', async () => {
    const service = uniqueName('service');
    const instance = { service, instanceId: uniqueName('instance'), url: 'http://10.0.0.5:8001' };
    await first.registry.announce(instance);
    expect(await second.registry.list(service)).toMatchObject([instance]);
    await second.registry.withdraw(service, instance.instanceId);
    expect(await first.registry.list(service)).toEqual([]);
  });

  it('share one cache and one event bus', async () => {
    const key = uniqueName('cache');
    await first.cache.set(key, Buffer.from('shared'), 60);
    expect((await second.cache.get(key))?.toString()).toBe('shared');
    await first.cache.delete(key);

    const channel = uniqueName('channel');
    const subscription = await listen(second.events, channel);
    await first.events.publish(channel, { from: 'first' });
    expect(await subscription.next()).toEqual({ from: 'first' });
    await subscription.unsubscribe();
  });
});

describe.skipIf(!inject('redisUrl'))('Redis cache while Redis is unreachable', () => {
  it('misses on read and drops writes instead of failing the caller', async () => {
    const url = new URL(inject('redisUrl') ?? '');
    const proxy = await startTcpProxy(url.hostname, Number(url.port || 6379));
    const redis = await connectRedis({
      url: throughProxy(url.toString(), proxy),
      sentinels: [],
      sentinelName: 'mymaster',
      connectTimeoutMs: 1000,
      logger: silentLogger,
    });
    try {
      const cache = createRedisCache(redis.client, `${uniqueName('test')}:`);
      const key = uniqueName('cache');
      await cache.set(key, Buffer.from('cached'), 60);
      expect((await cache.get(key))?.toString()).toBe('cached');

      proxy.cut();
      await sleep(100);
      expect(await cache.get(key)).toBeUndefined();
      await expect(cache.set(key, Buffer.from('lost'), 60)).resolves.toBeUndefined();
      await expect(cache.delete(key)).rejects.toThrow();
    } finally {
      proxy.restore();
      await redis.close();
      await proxy.close();
    }
  });
});
