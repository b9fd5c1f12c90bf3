import { assertCanRead, type Events, type Principal } from '@datalab/platform';
import { createEventMemory } from '../memory/event-memory.ts';
import type { DataClient, DatasetRef } from './data.client.ts';

/**
 * The data-service's event (services/data/src/datasets/catalog-cache.ts), published after every
 * committed change to a dataset's metadata: version, visibility, deletion.
 */
export const DATASET_CHANGED = 'data.dataset-changed';

/** Bounds the memory if a caller cycles through many names. */
const REMEMBERED_BYTES = 8 * 1024 * 1024;

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
  const memory = createEventMemory<DatasetRef>({
    events,
    channel: DATASET_CHANGED,
    ttlMs,
    maxBytes: REMEMBERED_BYTES,
  });
  const keyOf = (idOrName: string): string => idOrName.toLowerCase();

  async function dataset(principal: Principal, idOrName: string): Promise<DatasetRef> {
    const known = memory.recall(keyOf(idOrName));
    if (known) {
      assertCanRead(principal, known, 'Dataset');
      return known;
    }
    const since = memory.since();
    const ref = await data.dataset(principal, idOrName);
    memory.remember(since, [keyOf(ref.id), keyOf(ref.name)], ref);
    return ref;
  }

  return { client: { ...data, dataset }, listen: memory.listen };
}
