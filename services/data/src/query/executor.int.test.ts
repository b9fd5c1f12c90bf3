import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Pool } from '@datalab/platform';
import { qualifiedTable, type Dataset } from '../datasets/datasets.types.ts';
import { runBounded } from './bounded.ts';
import { openCursor, type CursorOptions, type RowCursor, type Statement } from './executor.ts';
import { answerLimits } from './limits.ts';
import {
  createTestDataset,
  oneConnection,
  queryTestDatabase,
  testQueryConfig,
} from './query.test-fixtures.ts';
import type { ResultValue } from './result-values.ts';

const options: CursorOptions = {
  timeoutMs: 5000,
  batchSize: 100,
  limits: answerLimits(testQueryConfig, true),
};

const sql = (text: string): Statement => ({ text, values: [] });

type Open = (pool: Pool, statement: Statement, options: CursorOptions) => Promise<RowCursor>;

/** Both ways user SQL runs: a cursor (exports, streamed) and one bounded statement (answers under the row cap). */
const WAYS: [string, Open][] = [
  ['through a cursor', openCursor],
  [
    'as one bounded statement',
    (pool, statement, opts) => runBounded(pool, statement, { maxRows: 1000, ...opts }),
  ],
];

describe.each(WAYS)(
  'the reader transaction, on its own, %s (what stops SQL the guard would have missed)',
  (_way, open) => {
    async function readAll(pool: Pool, statement: Statement, extra: Partial<CursorOptions> = {}) {
      const cursor = await open(pool, statement, { ...options, ...extra });
      const rows: ResultValue[][] = [];
      for await (const batch of cursor.batches()) rows.push(...batch);
      return { columns: cursor.columns, rows, truncated: cursor.truncated, consistent: cursor.consistent };
    }

    let db: Database;
    let dataset: Dataset;
    // One connection: proves each query gives it back healthy.
    let one: Database;
    let single: Pool;

    beforeAll(async () => {
      db = await queryTestDatabase();
      one = await oneConnection();
      single = one.pool;
      dataset = await createTestDataset(db.pool, {
        ownerId: randomUUID(),
        columns: [
          { name: 'n', type: 'integer' },
          { name: 'label', type: 'text' },
        ],
        rows: [
          [1, 'one'],
          [2, 'two'],
        ],
      });
    });
    afterAll(async () => {
      await one.close();
      await db.close();
    });

    it('reads a dataset table and types its columns', async () => {
      const result = await readAll(
        db.pool,
        sql(`SELECT n, label FROM ${qualifiedTable(dataset)} ORDER BY n`),
      );
      expect(result.columns).toEqual([
        { name: 'n', type: 'integer' },
        { name: 'label', type: 'text' },
      ]);
      expect(result.rows).toEqual([
        [1, 'one'],
        [2, 'two'],
      ]);
      expect(result.truncated).toBe(false);
    });

    it('refuses a statement that writes: only a query can be read from', async () => {
      const table = qualifiedTable(dataset);
      await expect(
        readAll(db.pool, sql(`INSERT INTO ${table} (n) VALUES (3) RETURNING n`)),
      ).rejects.toMatchObject({
        code: '42601',
      });
      await expect(
        readAll(db.pool, sql(`WITH gone AS (DELETE FROM ${table} RETURNING n) SELECT * FROM gone`)),
      ).rejects.toMatchObject({ code: '0A000' });
      const count = await db.pool.query(`SELECT count(*)::int AS n FROM ${table}`);
      expect(count.rows[0]).toEqual({ n: 2 });
    });

    it('refuses to lock rows: the transaction is read-only', async () => {
      await expect(
        readAll(db.pool, sql(`SELECT n FROM ${qualifiedTable(dataset)} FOR UPDATE`)),
      ).rejects.toMatchObject({
        code: '25006',
      });
    });

    it('undoes whatever a query changed in its session: the transaction always rolls back', async () => {
      await readAll(single, sql("SELECT set_config('datalab.marker', 'left behind', false) AS marker"));
      const after = await single.query<{ marker: string | null }>(
        "SELECT current_setting('datalab.marker', true) AS marker",
      );
      expect(after.rows[0]?.marker).not.toBe('left behind');
    });

    it('refuses to read the metadata tables: the reader role may only read dataset tables', async () => {
      await expect(readAll(db.pool, sql('SELECT * FROM data.datasets'))).rejects.toMatchObject({
        code: '42501',
      });
    });

    it('on the restricted query login, cannot switch back to a stronger role to read what it may not', async () => {
      const login = await oneConnection(inject('queryDatabaseUrl'));
      const restricted = login.pool;
      try {
        const owner = new URL(inject('databaseUrl')).username;
        const escape = sql(
          `SELECT set_config('role', '${owner}', true) AS r, query_to_xml('SELECT count(*) FROM data.datasets', true, false, '') AS x`,
        );
        await expect(readAll(restricted, escape)).rejects.toMatchObject({ code: '42501' });
        // The login may set temp_file_limit before SET ROLE; the reader role it runs as may not.
        const unlimited = sql(`SELECT set_config('temp_file_limit', '-1', true) AS t`);
        await expect(readAll(restricted, unlimited)).rejects.toMatchObject({ code: '42501' });
        expect(
          (await readAll(restricted, sql(`SELECT count(*) AS n FROM ${qualifiedTable(dataset)}`))).rows,
        ).toEqual([[2]]);
      } finally {
        await login.close();
      }
    });

    it('refuses to read the password catalog', async () => {
      await expect(
        readAll(db.pool, sql('SELECT rolpassword FROM pg_catalog.pg_authid')),
      ).rejects.toMatchObject({
        code: '42501',
      });
    });

    it('drops a session advisory lock the query took before the connection is reused', async () => {
      await readAll(single, sql('SELECT pg_advisory_lock(4242) AS locked'));
      const held = await single.query(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()",
      );
      expect(held.rows[0]).toEqual({ n: 0 });
    });

    it('stops a runaway query at the statement timeout and the connection serves the next query', async () => {
      const started = Date.now();
      await expect(
        readAll(single, sql('SELECT count(*) FROM (SELECT generate_series(1, 1e10)) s'), { timeoutMs: 300 }),
      ).rejects.toMatchObject({ code: '57014' });
      expect(Date.now() - started).toBeLessThan(5000);
      const next = await readAll(single, sql('SELECT 41 + 1 AS answer'));
      expect(next.rows).toEqual([[42]]);
      expect(single.totalCount).toBe(1);
    });

    it('kills pg_sleep(600) at the timeout', async () => {
      await expect(readAll(single, sql('SELECT pg_sleep(600)'), { timeoutMs: 300 })).rejects.toMatchObject({
        code: '57014',
      });
      expect((await readAll(single, sql('SELECT 1 AS one'))).rows).toEqual([[1]]);
    });

    it('refuses a row past the byte budget before reading it, and the connection is replaced', async () => {
      const limits = answerLimits({ ...testQueryConfig, queryMaxAnswerBytes: 64 * 1024 }, true);
      await expect(
        readAll(single, sql(`SELECT repeat('x', 1024 * 1024) AS big`), { limits }),
      ).rejects.toMatchObject({ kind: 'too_large', extensions: { limit: 'QUERY_MAX_ANSWER_BYTES' } });
      await expect(
        readAll(single, sql(`SELECT repeat('x', 1000) FROM generate_series(1, 1000)`), { limits }),
      ).rejects.toMatchObject({
        kind: 'too_large',
        message: expect.stringMatching(/^The answer is larger than the 64 KiB/) as unknown,
      });
      expect((await readAll(single, sql('SELECT 3 AS three'))).rows).toEqual([[3]]);
    });

    it('stops a sort that needs more temporary disk than temp_file_limit, and sets work_mem', async () => {
      const limits = answerLimits(
        { ...testQueryConfig, queryWorkMemBytes: 64 * 1024, queryTempFileBytes: 1024 * 1024 },
        true,
      );
      await expect(
        readAll(single, sql('SELECT g FROM generate_series(1, 2000000000) g ORDER BY g DESC'), { limits }),
      ).rejects.toMatchObject({
        code: '53400',
        message: expect.stringMatching(/temp_file_limit.*1024kB/) as unknown,
      });
      const settings = await readAll(
        single,
        sql(`SELECT current_setting('work_mem') AS w, current_setting('temp_file_limit') AS t`),
        { limits },
      );
      expect(settings.rows).toEqual([['64kB', '1MB']]);
    });

    it('says whether the snapshot shows the dataset versions the caller resolved', async () => {
      const text = `SELECT n FROM ${qualifiedTable(dataset)}`;
      const current = await readAll(db.pool, sql(text), {
        expectVersions: new Map([[dataset.id, dataset.version]]),
      });
      expect(current.consistent).toBe(true);
      const stale = await readAll(db.pool, sql(text), {
        expectVersions: new Map([[dataset.id, dataset.version + 1]]),
      });
      expect(stale.consistent).toBe(false);
    });

    it('gives the connection back when the reader stops early', async () => {
      const cursor = await open(single, sql('SELECT g FROM generate_series(1, 1000) g'), {
        ...options,
        batchSize: 10,
      });
      for await (const batch of cursor.batches()) {
        expect(batch).toHaveLength(10);
        break;
      }
      expect((await readAll(single, sql('SELECT 2 AS two'))).rows).toEqual([[2]]);
    });

    it('returns values in answer form: big integers as text, timestamps ISO, JSON parsed', async () => {
      const result = await readAll(
        db.pool,
        sql(
          `SELECT 9007199254740993::bigint AS big, 12::bigint AS small, 1.5::numeric AS num, true AS yes,
                DATE '2024-02-29' AS day, TIMESTAMPTZ '2024-01-02 03:04:05.123456+02' AS at,
                '{"a": [1, 2]}'::jsonb AS doc, ARRAY[1, 2] AS list, NULL::text AS nothing`,
        ),
      );
      expect(result.columns.map((column) => column.type)).toEqual([
        'integer',
        'integer',
        'float',
        'boolean',
        'date',
        'timestamp',
        'json',
        'json',
        'text',
      ]);
      expect(result.rows).toEqual([
        [
          '9007199254740993',
          12,
          1.5,
          true,
          '2024-02-29',
          '2024-01-02T01:04:05.123456Z',
          { a: [1, 2] },
          [1, 2],
          null,
        ],
      ]);
    });

    it('runs a statement that ends with semicolons and a comment', async () => {
      const result = await readAll(db.pool, sql('SELECT 7 AS seven; ; -- the answer\n'));
      expect(result.rows).toEqual([[7]]);
    });

    it("points an error at the place in the caller's statement", async () => {
      await expect(readAll(db.pool, sql('SELECT nope FROM (SELECT 1 AS one) s'))).rejects.toMatchObject({
        code: '42703',
        position: '8',
      });
    });
  },
);

describe('an answer under the row cap', () => {
  let db: Database;
  beforeAll(async () => {
    db = await queryTestDatabase();
  });
  afterAll(() => db.close());

  const bounded = async (text: string, maxRows: number) => {
    const cursor = await runBounded(db.pool, sql(text), { ...options, maxRows });
    const rows: ResultValue[][] = [];
    for await (const batch of cursor.batches()) rows.push(...batch);
    return { rows, truncated: cursor.truncated };
  };

  it('reads one row past the cap to say, before any row is encoded, that the answer was truncated', async () => {
    const result = await bounded('SELECT g FROM generate_series(1, 250) g', 120);
    expect(result.rows).toHaveLength(120);
    expect(result.rows.at(-1)).toEqual([120]);
    expect(result.truncated).toBe(true);
    const exact = await bounded('SELECT g FROM generate_series(1, 120) g', 120);
    expect(exact.rows).toHaveLength(120);
    expect(exact.truncated).toBe(false);
  });
});

describe('a cursor over wide rows', () => {
  let db: Database;
  beforeAll(async () => {
    db = await queryTestDatabase();
  });
  afterAll(() => db.close());

  it('fetches fewer rows at a time the wider they are (about 8 MiB a batch)', async () => {
    const cursor = await openCursor(
      db.pool,
      sql(`SELECT g, repeat('w', 1024 * 1024) AS wide FROM generate_series(1, 30) g`),
      { ...options, batchSize: 5000 },
    );
    const sizes: number[] = [];
    for await (const batch of cursor.batches()) sizes.push(batch.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(30);
    expect(sizes[0]).toBe(10);
    expect(sizes.length).toBeGreaterThan(3);
    for (const size of sizes.slice(1)) expect(size).toBeLessThanOrEqual(8);
  });
});
