import { assertCanRead, type Events, type Principal } from '@datalab/platform';
import type { DataClient, DatasetRef } from './data.client.ts';

/**
 * The data-service's event (services/data/src/datasets/catalog-cache.ts), published after every
 * committed change to a dataset's metadata: version, visibility, deletion.
 */
export const DATASET_CHANGED = 'data.dataset-changed';

/** Bounds the map if a caller cycles through many names. */
const MAX_REMEMBERED = 10_000;

export interface DatasetMemory {
  /** The DataClient, with `dataset` answered from memory while the answer is fresh. */
  client: DataClient;
  /** Starts listening for changes; until then nothing is remembered. Returns the function that stops it. */
  listen: () => Promise<() => Promise<void>>;
}

/**
 * A cache hit must not cost a data-service round trip to learn a dataset's version. What the
 * data-service answered (id, name, owner, visibility, version) is remembered for at most `ttlMs`
 * and forgotten at once when the data-service announces a change; the access check itself still
 * runs on every call, here, with the data-service's own rule (`assertCanRead`, 404 when the caller
 * may not read it). An answer whose lookup overlapped a change event is not remembered, so a
 * version read just before an append cannot outlive it. The TTL bounds staleness if an event is
 * lost, as in the data-service's own catalog cache.
 */
export function rememberDatasets(data: DataClient, events: Events, ttlMs: number): DatasetMemory {
  const remembered = new Map<string, { ref: DatasetRef; until: number }>();
  let listening = false;
  let generation = 0;
  const keyOf = (idOrName: string): string => idOrName.toLowerCase();

  async function dataset(principal: Principal, idOrName: string): Promise<DatasetRef> {
    const key = keyOf(idOrName);
    const entry = remembered.get(key);
    if (entry && listening && entry.until > performance.now()) {
      assertCanRead(principal, entry.ref, 'Dataset');
      return entry.ref;
    }
    const started = generation;
    const ref = await data.dataset(principal, idOrName);
    if (listening && ttlMs > 0 && started === generation) {
      if (remembered.size >= MAX_REMEMBERED) remembered.clear();
      const until = performance.now() + ttlMs;
      remembered.set(keyOf(ref.id), { ref, until });
      remembered.set(keyOf(ref.name), { ref, until });
    }
    return ref;
  }

  return {
    client: { ...data, dataset },
    listen: async () => {
      const stop = await events.subscribe(DATASET_CHANGED, () => {
        generation += 1;
        remembered.clear();
      });
      listening = true;
      return async () => {
        listening = false;
        remembered.clear();
        await stop();
      };
    },
  };
}
