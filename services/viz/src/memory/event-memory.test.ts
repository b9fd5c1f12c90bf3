import { createMemoryEvents, type Events } from '@datalab/platform';
import { describe, expect, it } from 'vitest';
import { createEventMemory, deepFreeze, perFrozen, readThrough } from './event-memory.ts';

const CHANNEL = 'test.changed';
const nextTick = () => new Promise((resolve) => setImmediate(resolve));

function memoryOn(events: Events, ttlMs = 60_000) {
  return createEventMemory<{ n: number }>({ events, channel: CHANNEL, ttlMs, maxBytes: 1024 * 1024 });
}

/** A source of truth that counts its reads. */
function source() {
  const values = new Map<string, { n: number }>([['a', { n: 1 }]]);
  let reads = 0;
  return {
    values,
    reads: () => reads,
    load: async (key: string) => {
      reads += 1;
      const value = values.get(key);
      return value && { ...value };
    },
  };
}

describe('a memory forgotten on announced changes', () => {
  it('reads the source once while fresh, and again after any instance announces a change', async () => {
    const events = createMemoryEvents();
    const here = memoryOn(events);
    const elsewhere = memoryOn(events);
    const stop = await here.listen();
    const truth = source();
    const find = readThrough(here, truth.load);
    expect(await find('a')).toEqual({ n: 1 });
    expect(await find('a')).toEqual({ n: 1 });
    expect(truth.reads()).toBe(1);
    truth.values.set('a', { n: 2 });
    await elsewhere.changed();
    await nextTick();
    expect(await find('a')).toEqual({ n: 2 });
    expect(truth.reads()).toBe(2);
    await stop();
  });

  it('hands out frozen values, so no caller can change what the next one sees', async () => {
    const here = memoryOn(createMemoryEvents());
    const stop = await here.listen();
    const value = await readThrough(here, source().load)('a');
    expect(() => {
      (value as { n: number }).n = 3;
    }).toThrow(TypeError);
    await stop();
  });

  it('remembers nothing while not listening, nothing unknown, and nothing past its TTL', async () => {
    const truth = source();
    const idle = readThrough(memoryOn(createMemoryEvents()), truth.load);
    await idle('a');
    await idle('a');
    expect(truth.reads()).toBe(2);

    const brief = memoryOn(createMemoryEvents(), 20);
    const stop = await brief.listen();
    const find = readThrough(brief, truth.load);
    expect(await find('missing')).toBeUndefined();
    await find('missing');
    expect(truth.reads()).toBe(4);
    await find('a');
    await new Promise((resolve) => setTimeout(resolve, 40));
    await find('a');
    expect(truth.reads()).toBe(6);
    await stop();
  });

  it('does not remember a read that overlapped a change', async () => {
    const events = createMemoryEvents();
    const here = memoryOn(events);
    const stop = await here.listen();
    const since = here.since();
    await memoryOn(events).changed();
    await nextTick();
    here.remember(since, ['a'], { n: 1 });
    expect(here.recall('a')).toBeUndefined();
    here.remember(here.since(), ['a'], { n: 1 });
    expect(here.recall('a')).toEqual({ n: 1 });
    await stop();
  });
});

describe('perFrozen', () => {
  it('computes once per frozen value and key, and every time for a value that may still change', () => {
    const calls: string[] = [];
    const size = perFrozen((value: { items: number[] }, key: string) => {
      calls.push(key);
      return value.items.length;
    });
    const frozen = deepFreeze({ items: [1, 2] });
    const open = { items: [1, 2] };

    expect([size(frozen, 'a'), size(frozen, 'a'), size(frozen, 'b')]).toEqual([2, 2, 2]);
    expect(calls).toEqual(['a', 'b']);
    open.items.push(3);
    expect([size(open), size(open)]).toEqual([3, 3]);
    expect(calls).toEqual(['a', 'b', '', '']);
  });

  it('keeps within its byte budget, however few the entries: the least recently used leave first', async () => {
    const events = createMemoryEvents();
    const small = createEventMemory<{ text: string }>({
      events,
      channel: CHANNEL,
      ttlMs: 60_000,
      maxBytes: 100_000,
    });
    const stop = await small.listen();
    // Ten values of about 20 KB each: two fifths of them fit.
    for (let i = 0; i < 10; i++) small.remember(small.since(), [`k${i}`], { text: 'x'.repeat(10_000) });
    expect(small.recall('k0')).toBeUndefined();
    expect(small.recall('k9')).toEqual({ text: 'x'.repeat(10_000) });
    await stop();
  });
});
