import { createBoundedLru, stringBytes, type Events } from '@datalab/platform';

export interface EventMemoryOptions {
  events: Events;
  /** Where every instance announces a change to what is remembered. */
  channel: string;
  /** How long an entry is trusted without hearing of a change: the bound if an announcement is lost. */
  ttlMs: number;
  /**
   * Memory for all remembered values together, least recently used out first: callers choose the
   * keys, and one saved chart may hold a 256 KiB spec, so a count of entries would not bound it.
   */
  maxBytes: number;
}

/** A JSON value's size as it sits in memory, estimated from its text. */
export function jsonBytes(value: unknown): number {
  return stringBytes(JSON.stringify(value) ?? '');
}

/** A moment of the memory's history: a value read before a change must not be remembered after it. */
export type Since = number;

export interface EventMemory<T> {
  /** The value remembered under `key`, if fresh. */
  recall: (key: string) => T | undefined;
  /** Taken before reading a value from its source, and handed to `remember`. */
  since: () => Since;
  /** Remembers a value read from its source, unless a change was heard of since the read began. */
  remember: (since: Since, keys: readonly string[], value: T) => void;
  /** Forgets everything here at once, and tells every other instance to. */
  changed: () => Promise<void>;
  /** Starts listening for changes; until then nothing is remembered. Returns the function that stops it. */
  listen: () => Promise<() => Promise<void>>;
}

/**
 * Values read from a source of truth (PostgreSQL, another service), kept for at most `ttlMs` and
 * forgotten at once on every instance when any of them announces a change on `channel`. Nothing is
 * remembered while the subscription is not active, so without events every call reads the source.
 * Any change forgets everything: changes are rare next to reads, and no message can then be
 * misread into keeping a stale entry.
 */
export function createEventMemory<T>(options: EventMemoryOptions): EventMemory<T> {
  const remembered = createBoundedLru<T>({ maxBytes: options.maxBytes, sizeOf: jsonBytes });
  let listening = false;
  let generation = 0;
  const forget = (): void => {
    generation += 1;
    remembered.clear();
  };

  return {
    recall: (key) => (listening ? remembered.get(key) : undefined),
    since: () => generation,
    remember: (since, keys, value) => {
      if (!listening || options.ttlMs <= 0 || since !== generation) return;
      const until = Date.now() + options.ttlMs;
      for (const key of keys) remembered.set(key, value, until);
    },
    changed: async () => {
      forget();
      await options.events.publish(options.channel, {});
    },
    listen: async () => {
      const stop = await options.events.subscribe(options.channel, forget);
      listening = true;
      return async () => {
        listening = false;
        forget();
        await stop();
      };
    },
  };
}

/** Freezes a JSON value through and through: a remembered value is shared by every request. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}

/**
 * `compute(value, key)`, kept for each frozen value (it cannot change, and a remembered chart is
 * rendered again and again); computed afresh for any other value.
 */
export function perFrozen<V extends object, T>(
  compute: (value: V, key: string) => T,
): (value: V, key?: string) => T {
  const kept = new WeakMap<V, Map<string, T>>();
  return (value, key = '') => {
    if (!Object.isFrozen(value)) return compute(value, key);
    const byKey = kept.get(value) ?? new Map<string, T>();
    kept.set(value, byKey);
    if (!byKey.has(key)) byKey.set(key, compute(value, key));
    return byKey.get(key)!;
  };
}

/**
 * `load` through the memory: a fresh entry, else what the source answers, remembered (frozen)
 * under its key. Nothing is remembered of a key the source does not know. Without a memory every
 * call reads the source.
 */
export function readThrough<T extends object>(
  memory: EventMemory<T> | undefined,
  load: (key: string) => Promise<T | undefined>,
): (key: string) => Promise<T | undefined> {
  return async (key) => {
    const known = memory?.recall(key);
    if (known) return known;
    const since = memory?.since() ?? 0;
    const value = await load(key);
    if (value) memory?.remember(since, [key], deepFreeze(value));
    return value;
  };
}
