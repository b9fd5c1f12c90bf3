import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalog } from '../datasets/datasets.catalog.ts';
import { createDatasetsRepository } from '../datasets/datasets.repository.ts';
import { qualifiedTable, type Dataset } from '../datasets/datasets.types.ts';
import { createMemoryCache, createServiceMetrics, type Database, type Principal } from '@datalab/platform';
import { person } from '../../../../test/internal.ts';
import type { QueryFormat } from './query.schemas.ts';
import { createQueryService } from './query.service.ts';
import {
  answerBytes,
  createTestDataset,
  oneConnection,
  queryTestDatabase,
  queryTestService,
  testQueryConfig,
} from './query.test-fixtures.ts';

const KIB = 1024;
const FORMATS: QueryFormat[] = ['json', 'csv', 'arrow', 'parquet'];

describe('what an answer may cost', () => {
  let db: Database;
  let one: Database;
  const alice = person('editor');
  let wide: Dataset;

  beforeAll(async () => {
    db = await queryTestDatabase();
    one = await oneConnection();
    wide = await createTestDataset(db.pool, {
      ownerId: alice.userId,
      columns: [
        { name: 'n', type: 'integer' },
        { name: 'note', type: 'text' },
      ],
    });
    await db.pool.query(
      `INSERT INTO ${qualifiedTable(wide)} (n, note) SELECT g, repeat('n', 1000) FROM generate_series(1, 200) g`,
    );
  });
  afterAll(async () => {
    await one.close();
    await db.close();
  });

  const budgeted = () =>
    queryTestService(db, { config: { queryMaxAnswerBytes: 64 * KIB }, readPool: one.pool });

  /** `n` times 32 characters, with functions the SQL guard allows. */
  const text = (n: number) => `(SELECT string_agg(md5(h::text), '') FROM generate_series(1, ${n}) h)`;

  it.each([
    ['one huge value', `SELECT ${text(40_000)} AS huge`],
    ['many medium values', `SELECT ${text(300)} AS m FROM generate_series(1, 20)`],
    ['many rows under the row cap', `SELECT g, md5(g::text), md5((-g)::text) FROM generate_series(1, 999) g`],
    [
      'a wide row',
      `WITH v AS (SELECT ${text(32)} AS s) SELECT ${Array.from({ length: 100 }, (_, i) => `s AS c${i}`).join(', ')} FROM v`,
    ],
  ])(
    'refuses %s with 413 naming QUERY_MAX_ANSWER_BYTES, and the connection serves the next query',
    async (_what, sql) => {
      const service = budgeted();
      for (const format of FORMATS) {
        await expect(service.run(alice, { sql }, format)).rejects.toMatchObject({
          kind: 'too_large',
          message: expect.stringMatching(/larger than the 64 KiB .* \(QUERY_MAX_ANSWER_BYTES\)/) as unknown,
          extensions: { limit: 'QUERY_MAX_ANSWER_BYTES', limit_bytes: 64 * KIB },
        });
      }
      const next = await answerBytes(service.run(alice, { sql: 'SELECT 1 AS one' }, 'json'));
      expect(JSON.parse(next.toString())).toMatchObject({ rows: [[1]] });
      expect(one.pool.idleCount).toBe(one.pool.totalCount);
    },
  );

  it('counts the encoded answer too: text that grows when escaped is refused as JSON', async () => {
    // 40 KiB of control characters arrive as 40 KiB and become 240 KiB of \u0001 escapes.
    const sql = `SELECT string_agg(E'\\x01', '') AS escaped FROM generate_series(1, 40 * 1024)`;
    await expect(budgeted().run(alice, { sql }, 'json')).rejects.toMatchObject({ kind: 'too_large' });
    expect((await answerBytes(budgeted().run(alice, { sql }, 'csv'))).length).toBeGreaterThan(40 * KIB);
  });

  it('bounds structured queries the same way', async () => {
    await expect(budgeted().run(alice, { dataset: wide.name }, 'json')).rejects.toMatchObject({
      kind: 'too_large',
      extensions: { limit: 'QUERY_MAX_ANSWER_BYTES' },
    });
    const small = await answerBytes(budgeted().run(alice, { dataset: wide.name, limit: 10 }, 'json'));
    expect(JSON.parse(small.toString())).toMatchObject({ row_count: 10 });
  });

  it('bounds an export by QUERY_EXPORT_MAX_BYTES', async () => {
    const service = queryTestService(db, { config: { queryExportMaxBytes: 100 * KIB } });
    await expect(service.exportDataset(alice, wide.name, 'csv')).rejects.toMatchObject({
      kind: 'too_large',
      message: expect.stringMatching(
        /The export is larger than the 100 KiB .*\(QUERY_EXPORT_MAX_BYTES\)/,
      ) as unknown,
    });
    const roomy = queryTestService(db, { config: { queryExportMaxBytes: 1024 * KIB } });
    expect((await answerBytes(roomy.exportDataset(alice, wide.name, 'csv'))).length).toBeGreaterThan(200_000);
  });

  it('refuses a sort that needs more temporary disk than QUERY_TEMP_FILE_BYTES, naming it', async () => {
    const service = queryTestService(db, {
      config: { queryWorkMemBytes: 64 * KIB, queryTempFileBytes: 1024 * KIB },
    });
    const sql = 'SELECT g FROM generate_series(1, 2000000000) g ORDER BY g DESC';
    await expect(service.run(alice, { sql }, 'json')).rejects.toMatchObject({
      kind: 'too_large',
      message: expect.stringMatching(
        /more than the 1 MiB of temporary disk space .*\(QUERY_TEMP_FILE_BYTES\)/,
      ) as unknown,
    });
  });

  it('has given the connection back when the answer is handed over, before anyone reads it', async () => {
    const service = queryTestService(db, { readPool: one.pool, config: { querySpoolMemoryBytes: 1024 } });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await service.exportDataset(alice, wide.name, 'csv'));
    expect(one.pool.idleCount).toBe(1);
    const bodies = await Promise.all(answers.map((answer) => answerBytes(answer)));
    for (const [i, body] of bodies.entries()) expect(body.length).toBe(answers[i]!.size);
  });

  describe('without a query login', () => {
    const service = () =>
      createQueryService({
        queryPool: undefined,
        readPool: db.readPool,
        catalog: createCatalog(createDatasetsRepository(db.pool)),
        cache: createMemoryCache(1 << 20),
        metrics: createServiceMetrics('data-service'),
        config: testQueryConfig,
      });
    const as: Principal = alice;

    it('refuses SQL with 503 naming QUERY_DATABASE_URL, and still answers structured queries', async () => {
      await expect(service().run(as, { sql: 'SELECT 1' }, 'json')).rejects.toMatchObject({
        kind: 'unavailable',
        message: expect.stringContaining('QUERY_DATABASE_URL is not set') as unknown,
      });
      const structured = await answerBytes(service().run(as, { dataset: wide.name, limit: 2 }, 'json'));
      expect(JSON.parse(structured.toString())).toMatchObject({ row_count: 2 });
    });
  });
});
