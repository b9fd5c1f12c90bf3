import { createBoundedLru, subscribeOrWarn, type Events, type Logger } from '@datalab/platform';
import { createCatalog, type Catalog } from './datasets.catalog.ts';
import type { DatasetsRepository } from './datasets.repository.ts';
import type { Dataset } from './datasets.types.ts';

/** Published after every committed change to a dataset's metadata (version, visibility, deletion). */
export const DATASET_CHANGED = 'data.dataset-changed';

export interface CachedCatalog {
  catalog: Catalog;
  /** Forgets every remembered dataset here at once, and tells the other replicas to. */
  changed: () => Promise<void>;
  /**
   * Starts listening for other replicas' changes; the returned function stops it. Never rejects:
   * without pub/sub the TTL bounds staleness, and the failure is logged.
   */
  listen: (logger: Logger) => Promise<() => Promise<void>>;
}

/**
 * The catalog the query path reads: a repeated (cached) query must not cost a metadata lookup in
 * PostgreSQL each time. A dataset found is remembered for at most `ttlMs`; a write through this
 * process forgets everything at once, other replicas hear of it through the events adapter, and
 * the TTL bounds how stale a replica can be if that message is lost. A name not found is never
 * remembered, so a new dataset is queryable at once. Memory is bounded by `maxBytes`, estimated
 * from each dataset's JSON size (a dataset may have thousands of columns), least recently used
 * first out.
 */
export function cachedCatalog(
  repository: DatasetsRepository,
  events: Events,
  ttlMs: number,
  maxBytes: number,
): CachedCatalog {
  // Held once, reached by id and by name; each key pays for it, which errs on the safe side.
  const remembered = createBoundedLru<Dataset>({
    maxBytes,
    sizeOf: (dataset) => JSON.stringify(dataset).length * 2,
  });
  const keyOf = (idOrName: string): string => idOrName.toLowerCase();
  const fresh = (key: string): Dataset | undefined => remembered.get(key);
  const remember = (dataset: Dataset): void => {
    const until = Date.now() + ttlMs;
    remembered.set(dataset.id, dataset, until);
    remembered.set(dataset.name, dataset, until);
  };

  const lookups: DatasetsRepository = {
    ...repository,
    async find(idOrName) {
      const known = ttlMs > 0 ? fresh(keyOf(idOrName)) : undefined;
      if (known) return known;
      const dataset = await repository.find(idOrName);
      if (dataset && ttlMs > 0) remember(dataset);
      return dataset;
    },
    async findByNames(names) {
      const known = ttlMs > 0 ? names.map((name) => fresh(keyOf(name))) : [];
      if (known.length === names.length && known.every((dataset) => dataset !== undefined)) {
        return known;
      }
      const found = await repository.findByNames(names);
      if (ttlMs > 0) found.forEach(remember);
      return found;
    },
  };

  return {
    catalog: createCatalog(lookups),
    changed: async () => {
      remembered.clear();
      await events.publish(DATASET_CHANGED, {});
    },
    listen: (logger: Logger) =>
      subscribeOrWarn(
        events,
        DATASET_CHANGED,
        () => remembered.clear(),
        logger,
        'catalog entries expire by their TTL',
      ),
  };
}
