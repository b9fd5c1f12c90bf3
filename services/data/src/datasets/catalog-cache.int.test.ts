import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMemoryEvents, type Database } from '@datalab/platform';
import { person } from '../../../../test/internal.ts';
import { bumpVersion, createTestDataset, queryTestDatabase } from '../query/query.test-fixtures.ts';
import { cachedCatalog } from './catalog-cache.ts';
import { createDatasetsRepository, type DatasetsRepository } from './datasets.repository.ts';
import type { Dataset } from './datasets.types.ts';

describe('the catalog the query path reads, kept briefly in memory', () => {
  let db: Database;
  let dataset: Dataset;
  const owner = person('editor');
  let reads = 0;
  let repository: DatasetsRepository;

  beforeAll(async () => {
    db = await queryTestDatabase();
    dataset = await createTestDataset(db.pool, {
      ownerId: owner.userId,
      columns: [{ name: 'n', type: 'integer' }],
    });
    const real = createDatasetsRepository(db.pool);
    // The real repository, counting how often PostgreSQL is asked.
    repository = {
      ...real,
      findByNames: async (names) => {
        reads++;
        return real.findByNames(names);
      },
    };
  });
  afterAll(async () => {
    await db.close();
  });

  it('answers a repeated lookup from memory, and reads again once any replica says a dataset changed', async () => {
    const events = createMemoryEvents();
    const here = cachedCatalog(repository, events, 60_000, 1 << 20);
    const elsewhere = cachedCatalog(repository, events, 60_000, 1 << 20);
    const stop = await here.listen(createLogger({ level: 'silent' }));
    reads = 0;
    const first = await here.catalog.readableByNames(owner, [dataset.name]);
    await here.catalog.readableByNames(owner, [dataset.name]);
    expect(reads).toBe(1);
    expect(first.get(dataset.name)?.version).toBe(dataset.version);

    await bumpVersion(db.pool, dataset);
    await elsewhere.changed();
    await new Promise((resolve) => setImmediate(resolve));
    const after = await here.catalog.readableByNames(owner, [dataset.name]);
    expect(reads).toBe(2);
    expect(after.get(dataset.name)?.version).toBe(dataset.version + 1);
    await stop();
  });

  it('is bounded by bytes: what was read least recently leaves first once the estimate passes the bound', async () => {
    const other = await createTestDataset(db.pool, {
      ownerId: owner.userId,
      columns: [{ name: 'm', type: 'integer' }],
    });
    // Room for one dataset (reached by id and by name), not two.
    const entry = JSON.stringify(dataset).length * 2 + 200;
    const catalog = cachedCatalog(repository, createMemoryEvents(), 60_000, 2 * entry + 100).catalog;
    reads = 0;
    await catalog.readableByNames(owner, [dataset.name]);
    await catalog.readableByNames(owner, [dataset.name]);
    expect(reads).toBe(1);
    await catalog.readableByNames(owner, [other.name]);
    await catalog.readableByNames(owner, [dataset.name]);
    expect(reads).toBe(3);
  });

  it('never remembers a name it did not find, and still refuses what the caller may not read', async () => {
    const catalog = cachedCatalog(repository, createMemoryEvents(), 60_000, 1 << 20).catalog;
    const missing = `nothing_${randomUUID().slice(0, 8)}`;
    await expect(catalog.readableByNames(owner, [missing])).rejects.toMatchObject({ kind: 'not_found' });
    await catalog.readableByNames(owner, [dataset.name]);
    await expect(catalog.readableByNames(person('editor'), [dataset.name])).rejects.toMatchObject({
      kind: 'not_found',
    });
  });
});
