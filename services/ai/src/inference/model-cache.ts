import type { Batcher } from './batcher.ts';
import type { LoadedModel } from './loaded-model.ts';
import type { InferenceMetrics } from './inference.metrics.ts';

export interface CachedModel {
  model: LoadedModel;
  batcher: Batcher;
}

export interface ModelCache {
  /** The loaded model for `key`, loading it once however many requests ask at the same time. */
  get: (key: string, load: () => Promise<CachedModel>) => Promise<CachedModel>;
  queuedRows: () => number;
  /** Bytes held now (estimated). */
  bytes: () => number;
  close: () => Promise<void>;
}

const IDLE_POLL_MS = 50;

/** Unloads once the model's in-flight runs are over: eviction never breaks requests already queued. */
function releaseWhenIdle(entry: CachedModel): void {
  if (entry.batcher.idle()) {
    entry.batcher.close();
    void entry.model.release();
    return;
  }
  setTimeout(() => releaseWhenIdle(entry), IDLE_POLL_MS).unref();
}

/**
 * Loaded models, least recently used first out once their estimated size
 * passes `maxBytes`. A model larger than the whole budget is still served
 * (alone), since refusing it would make it unusable.
 */
export function createModelCache(maxBytes: number, metrics: InferenceMetrics): ModelCache {
  const entries = new Map<string, CachedModel>();
  const loading = new Map<string, Promise<CachedModel>>();
  let held = 0;

  const evict = (keep: string): void => {
    for (const [key, entry] of entries) {
      if (held <= maxBytes) return;
      if (key === keep) continue;
      entries.delete(key);
      held -= entry.model.bytes;
      metrics.cacheEvictions.inc();
      releaseWhenIdle(entry);
    }
  };

  return {
    get: async (key, load) => {
      const cached = entries.get(key);
      if (cached) {
        // Map order is insertion order: re-inserting makes it the most recently used.
        entries.delete(key);
        entries.set(key, cached);
        metrics.cacheLookups.inc({ result: 'hit' });
        return cached;
      }
      const pending = loading.get(key);
      if (pending) {
        metrics.cacheLookups.inc({ result: 'hit' });
        return pending;
      }
      metrics.cacheLookups.inc({ result: 'miss' });
      const promise = load().then(
        (entry) => {
          loading.delete(key);
          entries.set(key, entry);
          held += entry.model.bytes;
          evict(key);
          return entry;
        },
        (error: unknown) => {
          loading.delete(key);
          throw error;
        },
      );
      loading.set(key, promise);
      return promise;
    },
    queuedRows: () => [...entries.values()].reduce((sum, entry) => sum + entry.batcher.queuedRows(), 0),
    bytes: () => held,
    close: async () => {
      for (const entry of entries.values()) {
        entry.batcher.close();
        await entry.model.release();
      }
      entries.clear();
      held = 0;
    },
  };
}
