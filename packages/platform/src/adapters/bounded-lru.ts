/** What one entry costs beyond its key and value: the Map slot and the entry object. */
const ENTRY_OVERHEAD_BYTES = 96;

/** How often a write also drops every expired entry (a walk of the whole map). */
const SWEEP_EVERY_MS = 10_000;

/** The memory a string takes at most (V8 keeps two bytes per character unless all are Latin-1). */
export function stringBytes(value: string): number {
  return value.length * 2;
}

export interface BoundedLruOptions<V> {
  /** The budget for all entries together, as estimated by `sizeOf`. */
  maxBytes: number;
  /** An estimate of one entry's value in bytes (its key is counted apart). */
  sizeOf: (value: V) => number;
}

interface Entry<V> {
  value: V;
  bytes: number;
  /** Epoch milliseconds after which the entry is gone. */
  expiresAt: number;
}

/**
 * An in-process map kept within a byte budget, least recently used entries leaving first. Callers
 * choose the keys (tokens, API keys, user ids), so a count of entries alone would not bound memory,
 * and clearing everything when full would let one caller flush what everyone else relies on.
 */
export function createBoundedLru<V>(options: BoundedLruOptions<V>) {
  const entries = new Map<string, Entry<V>>();
  let bytes = 0;
  let sweptAt = Date.now();

  const remove = (key: string): void => {
    const entry = entries.get(key);
    if (!entry) return;
    bytes -= entry.bytes;
    entries.delete(key);
  };

  // A key nobody reads again (an old dataset version's answer, a one-off render) would otherwise
  // stay until the budget pushed it out, so memory would climb to the budget whatever the TTLs.
  const sweepExpired = (now: number): void => {
    if (now - sweptAt < SWEEP_EVERY_MS) return;
    sweptAt = now;
    for (const [key, entry] of entries) if (entry.expiresAt <= now) remove(key);
  };

  return {
    get(key: string): V | undefined {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt <= Date.now()) {
        remove(key);
        return undefined;
      }
      // Re-inserted so the Map's order stays least recently used first.
      entries.delete(key);
      entries.set(key, entry);
      return entry.value;
    },

    set(key: string, value: V, expiresAt: number): void {
      sweepExpired(Date.now());
      remove(key);
      const size = stringBytes(key) + options.sizeOf(value) + ENTRY_OVERHEAD_BYTES;
      if (size > options.maxBytes) return;
      entries.set(key, { value, bytes: size, expiresAt });
      bytes += size;
      for (const oldest of entries.keys()) {
        if (bytes <= options.maxBytes) break;
        remove(oldest);
      }
    },

    delete: remove,

    /** Removes every entry whose value matches (an eviction by something other than the key). */
    deleteWhere(matches: (value: V) => boolean): void {
      for (const [key, entry] of entries) if (matches(entry.value)) remove(key);
    },

    clear(): void {
      entries.clear();
      bytes = 0;
    },

    /** The estimated bytes held now; never above `maxBytes`. */
    get bytes(): number {
      return bytes;
    },

    get size(): number {
      return entries.size;
    },
  };
}

export type BoundedLru<V> = ReturnType<typeof createBoundedLru<V>>;
