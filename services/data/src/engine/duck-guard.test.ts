import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { isAppError } from '@datalab/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardSql, memoizedGuard, type ParseSql } from './duck-guard.ts';

let instance: DuckDBInstance;
let connection: DuckDBConnection;
let parses = 0;
const parse: ParseSql = async (sql) => {
  parses++;
  const reader = await connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]);
  return String(reader.getRows()[0]?.[0]);
};

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});
afterAll(() => {
  connection.closeSync();
  instance.closeSync();
});

async function refusal(
  sql: string,
): Promise<{ kind: string; message: string; extensions: Record<string, unknown> }> {
  try {
    await guardSql(sql, parse);
  } catch (error) {
    if (!isAppError(error)) throw error;
    return { kind: error.kind, message: error.message, extensions: error.extensions ?? {} };
  }
  throw new Error(`expected ${sql} to be refused`);
}

describe('the DuckDB SQL guard', () => {
  it.each([
    ['a plain select', 'SELECT region, sum(amount) FROM sales GROUP BY ALL', ['sales']],
    [
      'a CTE, which is not a dataset',
      'WITH big AS (SELECT * FROM sales WHERE amount > 10) SELECT * FROM big',
      ['sales'],
    ],
    ['a CTE that hides a dataset of the same name', 'WITH sales AS (SELECT 1 AS x) SELECT * FROM sales', []],
    [
      'a recursive CTE',
      'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r',
      [],
    ],
    [
      'set operations',
      'SELECT id FROM sales UNION ALL SELECT id FROM returns EXCEPT SELECT 3',
      ['sales', 'returns'],
    ],
    [
      'subqueries in FROM, WHERE and SELECT',
      'SELECT (SELECT max(id) FROM a), * FROM (SELECT * FROM b) x WHERE EXISTS (SELECT 1 FROM c)',
      ['a', 'b', 'c'],
    ],
    [
      'window functions',
      'SELECT id, row_number() OVER (PARTITION BY region ORDER BY amount DESC), lag(amount) OVER w FROM sales WINDOW w AS (ORDER BY id)',
      ['sales'],
    ],
    ['VALUES', 'SELECT * FROM (VALUES (1, 2), (3, 4)) v(a, b)', []],
    [
      'joins of every kind',
      'SELECT * FROM a JOIN b USING (id) LEFT JOIN c ON a.id = c.id ASOF JOIN d ON a.t >= d.t POSITIONAL JOIN e',
      ['a', 'b', 'c', 'd', 'e'],
    ],
    [
      'lambdas, lists, structs and maps',
      "SELECT list_transform([1, 2], x -> x * 2), {'a': 1}, MAP {'k': 1}, [1, 2][1]",
      [],
    ],
    [
      'PIVOT and UNPIVOT in FROM',
      'SELECT * FROM sales PIVOT (sum(amount) FOR region IN (north, south)) UNPIVOT (v FOR k IN (north, south))',
      ['sales'],
    ],
    ['the allowed table functions', 'SELECT * FROM range(10), generate_series(1, 3), unnest([1, 2])', []],
    [
      'FROM-first syntax and QUALIFY',
      'FROM sales SELECT id QUALIFY row_number() OVER (ORDER BY id) = 1',
      ['sales'],
    ],
    [
      'casts, CASE, BETWEEN, IN, LIKE, COLLATE',
      "SELECT CAST(id AS VARCHAR), CASE WHEN id BETWEEN 1 AND 2 THEN 'a' END, id IN (1, 2), region LIKE 'n%', region COLLATE nocase FROM sales",
      ['sales'],
    ],
    [
      'aggregates with FILTER and ORDER BY',
      "SELECT count(*) FILTER (WHERE amount > 1), string_agg(region, ',' ORDER BY id), median(amount), quantile_cont(amount, 0.9) FROM sales",
      ['sales'],
    ],
    ['a sample', 'SELECT * FROM sales USING SAMPLE 10%', ['sales']],
  ])('accepts %s', async (_what, sql, datasets) => {
    expect((await guardSql(sql, parse)).datasetNames).toEqual(datasets);
  });

  it('reports dataset names in lower case once each, with where each reference is', async () => {
    const guarded = await guardSql('SELECT * FROM Sales s1 JOIN sales s2 ON true', parse);
    expect(guarded.datasetNames).toEqual(['sales']);
    expect(guarded.references).toEqual([
      { name: 'Sales', location: 14 },
      { name: 'sales', location: 28 },
    ]);
  });

  it('gives queries that differ only in spacing, keyword case and comments the same normalized form', async () => {
    const a = await guardSql('SELECT id FROM sales WHERE id > 1', parse);
    const b = await guardSql('select  id\n from sales -- note\n where id > 1', parse);
    expect(a.normalized).toBe(b.normalized);
  });

  it('refuses a syntax error with 400 naming the line and column', async () => {
    const refused = await refusal('SELECT id\nFROM sales\nWHERE');
    expect(refused.kind).toBe('invalid');
    expect(refused.message).toMatch(/SQL syntax error: syntax error at end of input \(line 3, column 6\)/);
    expect(refused.extensions).toMatchObject({ line: 3, column: 6 });
  });

  it('counts columns in characters, not bytes, after multibyte text', async () => {
    const refused = await refusal("SELECT 'ééé', getenv('HOME')");
    expect(refused.message).toMatch(/Function getenv\(\) is not allowed in a query \(line 1, column 15\)/);
  });

  it.each([
    [
      'a schema-qualified dataset',
      'SELECT * FROM main.sales',
      /main\.sales: datasets are read by their name alone/,
    ],
    [
      'a catalog-qualified dataset',
      'SELECT * FROM memory.main.sales',
      /memory\.main\.sales: datasets are read by their name alone/,
    ],
    ['a file name as a table', "SELECT * FROM 'data.csv'", /"data.csv" is not a dataset name/],
    ['DESCRIBE', 'DESCRIBE sales', /DESCRIBE, SHOW and SUMMARIZE are not allowed/],
    ['SUMMARIZE', 'SUMMARIZE SELECT 1', /DESCRIBE, SHOW and SUMMARIZE are not allowed/],
    ['SHOW TABLES', 'SHOW TABLES', /DESCRIBE, SHOW and SUMMARIZE are not allowed/],
    ['a parameter', 'SELECT $1', /Query parameters/],
    ['a function that is not on the list', "SELECT nextval('s')", /Function nextval\(\) is not allowed/],
    [
      'a schema-qualified function',
      'SELECT pg_catalog.sum(1)',
      /pg_catalog\.sum\(\) must be called without a catalog or schema/,
    ],
    [
      'a table function that is not on the list',
      'SELECT * FROM duckdb_tables()',
      /Table function duckdb_tables\(\) is not allowed/,
    ],
    [
      'a table function in a subquery in a CTE',
      "WITH x AS (SELECT (SELECT count(*) FROM read_text('/etc/hosts'))) SELECT * FROM x",
      /read_text\(\) is not allowed/,
    ],
    [
      'a function hidden in a window frame',
      "SELECT sum(id) OVER (ORDER BY current_setting('threads')) FROM sales",
      /current_setting\(\) is not allowed/,
    ],
    [
      'SQL text run by a function',
      "SELECT json_serialize_plan('SELECT 1')",
      /json_serialize_plan\(\) is not allowed/,
    ],
    ['an empty text', '   ', /no statement/],
    [
      'a statement that writes, naming it',
      '/* tidy up */ -- first\n  delete FROM sales',
      /Only a SELECT query is allowed: DELETE statements are not allowed/,
    ],
    ['an UPDATE, naming it', 'UPDATE sales SET id = 1', /UPDATE statements are not allowed/],
    [
      'a statement after a WITH list, without guessing its kind',
      'WITH x AS (SELECT 1) DELETE FROM sales',
      /^Only a SELECT query is allowed: no statement may write/,
    ],
    ['a statement inside an unclosed comment', '/* DELETE FROM sales', /SQL|SELECT/],
  ])('refuses %s', async (_what, sql, message) => {
    const refused = await refusal(sql);
    expect(refused.kind).toBe('invalid');
    expect(refused.message).toMatch(message);
  });
});

describe('the guard memo', () => {
  it('parses repeated SQL once', async () => {
    const guard = memoizedGuard(parse, 1024 * 1024);
    const before = parses;
    await guard('SELECT 1 FROM sales');
    await guard('SELECT 1 FROM sales');
    expect(parses - before).toBe(1);
  });

  it('keeps no more bytes than it is given, forgetting the oldest first', async () => {
    const guard = memoizedGuard(parse, 2000);
    const before = parses;
    for (let i = 0; i < 20; i++) await guard(`SELECT ${i} AS n${'x'.repeat(50)} FROM sales`);
    await guard('SELECT 19 AS n' + 'x'.repeat(50) + ' FROM sales');
    expect(parses - before).toBe(20);
    await guard(`SELECT 0 AS n${'x'.repeat(50)} FROM sales`);
    expect(parses - before).toBe(21);
  });

  it('does not keep SQL larger than the whole memo', async () => {
    const guard = memoizedGuard(parse, 100);
    const before = parses;
    await guard('SELECT 1 AS a_rather_long_name_for_a_column FROM sales');
    await guard('SELECT 1 AS a_rather_long_name_for_a_column FROM sales');
    expect(parses - before).toBe(2);
  });

  it('remembers nothing refused', async () => {
    const guard = memoizedGuard(parse, 1024 * 1024);
    await expect(guard("SELECT getenv('x')")).rejects.toThrow(/getenv/);
    await expect(guard("SELECT getenv('x')")).rejects.toThrow(/getenv/);
  });
});
