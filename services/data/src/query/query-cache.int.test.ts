import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createMemoryCache, createServiceMetrics, type Adapters, type Database } from '@datalab/platform';
import { redisAdapters } from '../../../../test/helpers.ts';
import { person } from '../../../../test/internal.ts';
import { createCatalog } from '../datasets/datasets.catalog.ts';
import { createDatasetsRepository } from '../datasets/datasets.repository.ts';
import { qualifiedTable, type Dataset } from '../datasets/datasets.types.ts';
import { createQueryService } from './query.service.ts';
import {
  answerBytes,
  bumpVersion,
  cacheHits,
  createTestDataset,
  queryTestDatabase,
  queryTestService,
  settled,
  testQueryConfig,
} from './query.test-fixtures.ts';

describe('the query cache', () => {
  let db: Database;
  const alice = person('editor');
  const bob = person('editor');
  const admin = person('admin');
  let sales: Dataset;
  let regions: Dataset;

  beforeAll(async () => {
    db = await queryTestDatabase();
    sales = await createTestDataset(db.pool, {
      ownerId: alice.userId,
      columns: [{ name: 'units', type: 'integer' }],
      rows: [[1], [2], [3]],
    });
    regions = await createTestDataset(db.pool, {
      ownerId: bob.userId,
      visibility: 'shared',
      columns: [{ name: 'code', type: 'text' }],
      rows: [['north'], ['south']],
    });
  });
  afterAll(async () => {
    await db.close();
  });

  it('serves a repeated query from the cache, and the first query after a new version fresh', async () => {
    const metrics = createServiceMetrics('data-service');
    const service = queryTestService(db, { metrics });
    const query = { sql: `SELECT sum(units) AS total FROM ${sales.name} WHERE units > 0` };
    expect((await settled(service.run(alice, query, 'json'))).cached).toBe(false);
    // Spacing and case do not make another query.
    const again = await service.run(alice, { sql: query.sql.replace('WHERE', '\n  where') }, 'json');
    expect(again.cached).toBe(true);
    expect(JSON.parse((await answerBytes(again)).toString('utf8'))).toMatchObject({ rows: [[6]] });
    expect(cacheHits(await metrics.registry.metrics())).toBe(1);

    await db.pool.query(`INSERT INTO ${qualifiedTable(sales)} (units) VALUES (10)`);
    await bumpVersion(db.pool, sales);
    const fresh = await service.run(alice, query, 'json');
    expect(fresh.cached).toBe(false);
    expect(JSON.parse((await answerBytes(fresh)).toString('utf8'))).toMatchObject({ rows: [[16]] });
  });

  it('keeps each format apart', async () => {
    const service = queryTestService(db);
    const query = { dataset: sales.name };
    await settled(service.run(alice, query, 'json'));
    const csv = await settled(service.run(alice, query, 'csv'));
    expect(csv.cached).toBe(false);
    expect(csv.contentType).toBe('text/csv; charset=utf-8');
  });

  it('keeps answers over a private dataset to their reader, and shares answers over shared data', async () => {
    const service = queryTestService(db);
    const mine = { sql: `SELECT count(*) FROM ${sales.name}` };
    await settled(service.run(alice, mine, 'json'));
    expect((await settled(service.run(admin, mine, 'json'))).cached).toBe(false);
    const shared = { sql: `SELECT count(*) FROM ${regions.name}` };
    await settled(service.run(bob, shared, 'json'));
    expect((await settled(service.run(alice, shared, 'json'))).cached).toBe(true);
  });

  it('checks who may read before answering from the cache', async () => {
    const service = queryTestService(db);
    await settled(service.run(alice, { dataset: sales.name }, 'json'));
    await expect(service.run(bob, { dataset: sales.name }, 'json')).rejects.toMatchObject({
      kind: 'not_found',
    });
  });

  it('does not store an answer read from a snapshot older than the versions it resolved', async () => {
    const catalog = createCatalog(createDatasetsRepository(db.pool));
    // Stands in for a lagging replica: the catalog already knows a version the snapshot does not show.
    const ahead = createQueryService({
      queryPool: db.pool,
      readPool: db.pool,
      catalog: {
        ...catalog,
        readable: async (principal, id) => ({ ...(await catalog.readable(principal, id)), version: 999 }),
      },
      cache: createMemoryCache(1 << 20),
      metrics: createServiceMetrics('data-service'),
      config: testQueryConfig,
    });
    await settled(ahead.run(alice, { dataset: sales.name }, 'json'));
    expect((await settled(ahead.run(alice, { dataset: sales.name }, 'json'))).cached).toBe(false);
  });

  describe.skipIf(!inject('redisUrl'))('in Redis', () => {
    let first: Adapters;
    let second: Adapters;

    beforeAll(async () => {
      [first, second] = await Promise.all([redisAdapters(), redisAdapters()]);
    });
    afterAll(async () => {
      await Promise.all([first.close(), second.close()]);
    });

    it('answers one instance from the entry another instance stored', async () => {
      const one = queryTestService(db, { cache: first.cache });
      const two = queryTestService(db, {
        cache: second.cache,
        metrics: createServiceMetrics('data-service'),
      });
      const query = { sql: `SELECT code FROM ${regions.name} ORDER BY code` };
      const stored = await answerBytes(one.run(bob, query, 'json'));
      const served = await two.run(alice, query, 'json');
      expect(served.cached).toBe(true);
      expect(await answerBytes(served)).toEqual(stored);
    });
  });
});
