import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, type Database, type Pool, type Principal } from '@datalab/platform';
import { person } from '../../../../test/internal.ts';
import { qualifiedTable, type Dataset } from '../datasets/datasets.types.ts';
import type { QueryBody } from './query.schemas.ts';
import type { QueryService } from './query.service.ts';
import {
  answerBytes,
  createTestDataset,
  oneConnection,
  queryTestDatabase,
  queryTestService,
} from './query.test-fixtures.ts';

interface JsonAnswer {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  row_count: number;
  truncated: boolean;
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

describe('queries over datasets', () => {
  let db: Database;
  let one: Database;
  let single: Pool;
  let service: QueryService;
  const alice = person('editor');
  const bob = person('editor');
  const admin = person('admin');
  let sales: Dataset;
  let regions: Dataset;
  let secrets: Dataset;

  const json = async (as: Principal, query: QueryBody, on = service): Promise<JsonAnswer> =>
    JSON.parse((await answerBytes(on.run(as, query, 'json'))).toString('utf8')) as JsonAnswer;

  beforeAll(async () => {
    db = await queryTestDatabase();
    one = await oneConnection();
    single = one.pool;
    service = queryTestService(db);
    sales = await createTestDataset(db.pool, {
      ownerId: alice.userId,
      columns: [
        { name: 'region', type: 'text' },
        { name: 'amount', type: 'float' },
        { name: 'units', type: 'integer' },
        { name: 'sold_on', type: 'date' },
      ],
      rows: [
        ['north', 10.5, 1, '2024-01-05'],
        ['north', 20, 2, '2024-01-06'],
        ['south', 5, 5, '2024-02-01'],
        ['east', 7.25, 3, '2024-02-02'],
        ['south', 1, 1, '2024-03-01'],
      ],
    });
    regions = await createTestDataset(db.pool, {
      ownerId: bob.userId,
      visibility: 'shared',
      columns: [
        { name: 'code', type: 'text' },
        { name: 'manager', type: 'text' },
      ],
      rows: [
        ['north', 'Nadia'],
        ['south', 'Sam'],
      ],
    });
    secrets = await createTestDataset(db.pool, {
      ownerId: bob.userId,
      columns: [{ name: 'secret', type: 'text' }],
      rows: [['the combination is 1234']],
    });
  });
  afterAll(async () => {
    await one.close();
    await db.close();
  });

  it('answers a structured query with filters, grouping, aggregates, order and limit', async () => {
    const answer = await json(alice, {
      dataset: sales.name,
      filters: [{ column: 'sold_on', op: '>=', value: '2024-01-06' }],
      group_by: ['region'],
      aggregates: [
        { fn: 'sum', column: 'amount', as: 'total' },
        { fn: 'count', as: 'sales' },
        { fn: 'max', column: 'units', as: 'most' },
      ],
      order_by: [{ column: 'total', direction: 'desc' }],
      limit: 2,
    });
    expect(answer.columns).toEqual([
      { name: 'region', type: 'text' },
      { name: 'total', type: 'float' },
      { name: 'sales', type: 'integer' },
      { name: 'most', type: 'integer' },
    ]);
    expect(answer.rows).toEqual([
      ['north', 20, 1, 2],
      ['east', 7.25, 1, 3],
    ]);
    expect(answer).toMatchObject({ row_count: 2, truncated: false });
  });

  it('finds the dataset by id as well as by name, and filters with in / starts_with', async () => {
    const answer = await json(alice, {
      dataset: sales.id,
      select: ['region', 'units'],
      filters: [
        { column: 'units', op: 'in', value: [1, 5] },
        { column: 'region', op: 'starts_with', value: 'so' },
      ],
    });
    expect(answer.rows).toEqual([
      ['south', 5],
      ['south', 1],
    ]);
  });

  it('treats a value that looks like SQL as a value', async () => {
    const answer = await json(alice, {
      dataset: sales.name,
      filters: [{ column: 'region', op: '=', value: "'; DROP TABLE x; --" }],
    });
    expect(answer.rows).toEqual([]);
    const still = await db.pool.query(`SELECT count(*)::int AS n FROM ${qualifiedTable(sales)}`);
    expect(still.rows[0]).toEqual({ n: 5 });
  });

  it('runs SQL that joins a private dataset of mine with a shared one', async () => {
    const answer = await json(alice, {
      sql: `SELECT r.manager, sum(s.amount) AS total
            FROM ${sales.name} s JOIN ${regions.name} r ON r.code = s.region
            GROUP BY r.manager ORDER BY total DESC`,
    });
    expect(answer.rows).toEqual([
      ['Nadia', 30.5],
      ['Sam', 6],
    ]);
  });

  it.each([
    ['DROP', (t: string) => `DROP TABLE ${t}`],
    ['INSERT', (t: string) => `INSERT INTO ${t} (region) VALUES ('x')`],
    ['UPDATE', (t: string) => `UPDATE ${t} SET amount = 0`],
    ['COPY', (t: string) => `COPY ${t} TO STDOUT`],
    ['two statements', (t: string) => `SELECT * FROM ${t}; SELECT 1`],
    ['pg_sleep(600)', () => 'SELECT pg_sleep(600)'],
    ['pg_read_file', () => "SELECT pg_read_file('/etc/passwd')"],
    ['dblink', () => "SELECT * FROM dblink('dbname=postgres', 'SELECT 1') AS t(x int)"],
    ['auth.users', () => 'SELECT * FROM auth.users'],
    ['a data-modifying CTE', (t: string) => `WITH gone AS (DELETE FROM ${t} RETURNING *) SELECT * FROM gone`],
    ['SET ROLE', () => 'SET ROLE postgres'],
    ['query_to_xml', () => "SELECT query_to_xml('SELECT * FROM data.datasets', true, false, '')"],
  ])('refuses %s', async (_what, sql) => {
    const error = await refusal(service.run(alice, { sql: sql(sales.name) }, 'json'));
    expect(error.kind).toBe('invalid');
    const count = await db.pool.query(`SELECT count(*)::int AS n FROM ${qualifiedTable(sales)}`);
    expect(count.rows[0]).toEqual({ n: 5 });
  });

  it("answers 404 for another user's private dataset, by SQL and by structured query", async () => {
    const bySql = await refusal(service.run(alice, { sql: `SELECT * FROM ${secrets.name}` }, 'json'));
    expect(bySql).toMatchObject({ kind: 'not_found', message: `Dataset "${secrets.name}" not found` });
    expect((await refusal(service.run(alice, { dataset: secrets.id }, 'json'))).kind).toBe('not_found');
  });

  it('lets an admin read any dataset', async () => {
    expect((await json(admin, { sql: `SELECT secret FROM ${secrets.name}` })).rows).toEqual([
      ['the combination is 1234'],
    ]);
  });

  it("points a database error at the caller's SQL", async () => {
    const error = await refusal(service.run(alice, { sql: `SELECT nope FROM ${sales.name}` }, 'json'));
    expect(error.message).toMatch(/column "nope" does not exist/);
    expect(error.extensions).toMatchObject({ line: 1, column: 8 });
  });

  it('stops a runaway query at the timeout and frees its connection', async () => {
    const strict = queryTestService(db, { config: { queryTimeoutMs: 500 }, readPool: single });
    const started = Date.now();
    const error = await refusal(
      strict.run(alice, { sql: 'SELECT count(*) FROM generate_series(1, 1e10)' }, 'json'),
    );
    expect(error).toMatchObject({
      kind: 'invalid',
      message: 'The query ran longer than the 0.5 s limit and was stopped',
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await json(alice, { sql: `SELECT count(*) AS n FROM ${sales.name}` }, strict)).rows).toEqual([
      [5],
    ]);
    expect(single.totalCount).toBe(1);
    expect(single.idleCount).toBe(1);
  });

  it('caps the rows and says the answer was truncated', async () => {
    const capped = queryTestService(db, { config: { queryMaxRows: 3 } });
    const answer = await json(alice, { sql: 'SELECT g FROM generate_series(1, 10) g' }, capped);
    expect(answer.rows).toEqual([[1], [2], [3]]);
    expect(answer).toMatchObject({ row_count: 3, truncated: true });
    const exact = await json(alice, { dataset: sales.name, limit: 3 }, capped);
    expect(exact).toMatchObject({ row_count: 3, truncated: false });
  });
});
