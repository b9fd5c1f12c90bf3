import { describe, expect, it } from 'vitest';
import { AppError } from '@datalab/platform';
import { guardSql, memoizedGuard } from './sql-guard.ts';

async function refusal(sql: string): Promise<AppError> {
  const error = await guardSql(sql).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof AppError)) throw new Error(`expected a refusal for: ${sql}`);
  expect(error.kind).toBe('invalid');
  expect(error.errors?.[0]?.field).toBe('/body/sql');
  return error;
}

describe('the SQL guard', () => {
  it.each([
    ['DROP', 'DROP TABLE sales', /DROP is not allowed/],
    ['INSERT', "INSERT INTO sales (region) VALUES ('x')", /INSERT is not allowed/],
    ['UPDATE', 'UPDATE sales SET amount = 0', /UPDATE is not allowed/],
    ['DELETE', 'DELETE FROM sales', /DELETE is not allowed/],
    ['MERGE', 'MERGE INTO sales USING other ON true WHEN MATCHED THEN DELETE', /MERGE is not allowed/],
    ['COPY', "COPY sales TO '/tmp/out.csv'", /COPY is not allowed/],
    ['COPY FROM PROGRAM', "COPY sales FROM PROGRAM 'id'", /COPY is not allowed/],
    ['TRUNCATE', 'TRUNCATE sales', /TRUNCATE is not allowed/],
    ['CREATE', 'CREATE TABLE x (a int)', /CREATE TABLE is not allowed/],
    ['SET ROLE', 'SET ROLE postgres', /SET is not allowed/],
    ['SET', 'SET statement_timeout = 0', /SET is not allowed/],
    ['RESET ROLE', 'RESET ROLE', /SET is not allowed/],
    ['EXPLAIN ANALYZE', 'EXPLAIN ANALYZE SELECT * FROM sales', /EXPLAIN is not allowed/],
    ['DO', 'DO $$ BEGIN PERFORM pg_sleep(1); END $$', /DO is not allowed/],
    ['CALL', 'CALL do_things()', /CALL is not allowed/],
    ['transaction control', 'COMMIT', /transaction control is not allowed/],
    ['GRANT', 'GRANT SELECT ON sales TO public', /GRANT is not allowed/],
  ])('refuses %s', async (_what, sql, message) => {
    expect((await refusal(sql)).message).toMatch(message);
  });

  it('refuses two statements, pointing at the second', async () => {
    const error = await refusal('SELECT 1; DROP TABLE sales');
    expect(error.message).toMatch(/exactly one statement; this SQL has 2/);
    expect(error.extensions).toMatchObject({ line: 1, column: 11 });
  });

  it.each([
    ['pg_sleep(600)', 'SELECT pg_sleep(600)', 'pg_sleep'],
    ['pg_read_file', "SELECT pg_read_file('/etc/passwd')", 'pg_read_file'],
    ['dblink', "SELECT * FROM dblink('host=evil', 'select 1') AS t(a int)", 'dblink'],
    ['query_to_xml', "SELECT query_to_xml('select * from auth.users', true, false, '')", 'query_to_xml'],
    ['set_config', "SELECT set_config('role', 'postgres', true)", 'set_config'],
    ['current_setting', "SELECT current_setting('data_directory')", 'current_setting'],
    ['lo_import', "SELECT lo_import('/etc/passwd')", 'lo_import'],
    ['pg_advisory_lock', 'SELECT pg_advisory_lock(1)', 'pg_advisory_lock'],
    ['a function inside a sub-select', 'SELECT (SELECT pg_sleep(1)) FROM sales', 'pg_sleep'],
    [
      'a function in a lateral join',
      'SELECT * FROM sales, LATERAL (SELECT pg_read_file(region) FROM sales) f',
      'pg_read_file',
    ],
    [
      'a function in a window frame',
      'SELECT sum(amount) OVER (ORDER BY pg_backend_pid()) FROM sales',
      'pg_backend_pid',
    ],
  ])('refuses %s, naming the function', async (_what, sql, name) => {
    expect((await refusal(sql)).message).toContain(`Function ${name}() is not allowed`);
  });

  it('refuses a schema-qualified call even of an allowed function', async () => {
    expect((await refusal('SELECT pg_catalog.lower(region) FROM sales')).message).toMatch(
      /Schema-qualified function pg_catalog.lower\(\) is not allowed/,
    );
  });

  it.each([
    ['auth.users', 'SELECT * FROM auth.users'],
    ['pg_catalog.pg_authid', 'SELECT rolpassword FROM pg_catalog.pg_authid'],
    ['datasets.t_0123', 'SELECT * FROM datasets.t_0123'],
    ['data.datasets in a sub-select', 'SELECT * FROM sales WHERE EXISTS (SELECT 1 FROM data.datasets)'],
  ])('refuses the schema-qualified table %s', async (name, sql) => {
    expect((await refusal(sql)).message).toContain(`${name.split(' ')[0]}: tables are read by dataset name`);
  });

  it('refuses a data-modifying CTE', async () => {
    const error = await refusal('WITH gone AS (DELETE FROM sales RETURNING *) SELECT count(*) FROM gone');
    expect(error.message).toMatch(
      /A WITH query may not change data: DELETE is not allowed \(line 1, column 6\)/,
    );
  });

  it('refuses a data-modifying CTE nested in a sub-select', async () => {
    const error = await refusal(
      'SELECT * FROM (WITH x AS (UPDATE sales SET amount = 0 RETURNING *) SELECT * FROM x) y',
    );
    expect(error.message).toMatch(/UPDATE is not allowed/);
  });

  it.each([
    ['SELECT INTO', 'SELECT * INTO copy FROM sales', /SELECT INTO/],
    ['FOR UPDATE', 'SELECT * FROM sales FOR UPDATE', /FOR UPDATE/],
    ['a cast to regclass', "SELECT 'auth.users'::regclass", /Type regclass is not allowed/],
    ['CURRENT_USER', 'SELECT CURRENT_USER', /CURRENT_USER is not allowed/],
    ['parameters', 'SELECT * FROM sales WHERE amount > $1', /ParamRef is not allowed/],
    ['XML functions', "SELECT xmlparse(document '<a/>')", /XmlExpr is not allowed/],
    [
      'TABLESAMPLE with an extension method',
      'SELECT * FROM sales TABLESAMPLE system_rows(10)',
      /TABLESAMPLE system_rows/,
    ],
  ])('refuses %s', async (_what, sql, message) => {
    expect((await refusal(sql)).message).toMatch(message);
  });

  it('points at the function it refuses, in characters, on the right line', async () => {
    const error = await refusal("SELECT 'é',\n  pg_sleep(1)");
    expect(error.extensions).toEqual({ position: 15, line: 2, column: 3 });
  });

  it('reports a syntax error with its place', async () => {
    const error = await refusal('SELECT region FRM sales');
    expect(error.message).toMatch(/SQL syntax error: syntax error at or near "sales" \(line 1, column 19\)/);
  });

  it('refuses an empty query', async () => {
    expect((await refusal('-- nothing')).message).toMatch(/no statement/);
  });

  it('accepts an ordinary analytical query and lists the datasets it reads', async () => {
    const guarded = await guardSql(`
      WITH monthly AS (
        SELECT date_trunc('month', sold_at) AS month, region, sum(amount) AS total
        FROM sales WHERE region NOT IN ('test') AND meta->>'channel' = 'web'
        GROUP BY 1, 2
      )
      SELECT m.*, rank() OVER (PARTITION BY month ORDER BY total DESC), extract(year FROM month),
             substring(region FROM 1 FOR 3), trim(both ' ' from region), coalesce(total, 0)::float8,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY total) OVER (), CURRENT_DATE
      FROM monthly m JOIN regions r ON r.code = m.region
      WHERE EXISTS (SELECT 1 FROM targets t WHERE t.region = m.region)
      UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM generate_series(1, 3)`);
    expect(guarded.datasetNames).toEqual(['sales', 'regions', 'targets']);
  });

  it('tells CTE names from datasets by where SQL makes them visible', async () => {
    // Inside its own body a non-recursive CTE does not see itself: that `sales` is the dataset.
    expect(
      (await guardSql('WITH sales AS (SELECT * FROM sales) SELECT * FROM sales')).references,
    ).toHaveLength(1);
    // A CTE declared in a sub-select does not hide the dataset outside it.
    const scoped = await guardSql('SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) a, x');
    expect(scoped.references.map((r) => r.name)).toEqual(['x']);
    // A recursive CTE sees itself.
    const recursive = await guardSql(
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT * FROM n',
    );
    expect(recursive.datasetNames).toEqual([]);
    // The WITH of a parenthesised UNION branch covers that branch only.
    const branch = await guardSql('(WITH y AS (SELECT 1) SELECT * FROM y) UNION ALL SELECT * FROM y');
    expect(branch.datasetNames).toEqual(['y']);
  });

  it('normalises spacing, case and comments but keeps literals apart', async () => {
    const a = await guardSql('SELECT region FROM sales WHERE amount > 10');
    const b = await guardSql('select   REGION\nfrom sales -- note\nwhere amount > 10');
    const c = await guardSql('SELECT region FROM sales WHERE amount > 11');
    expect(a.normalized).toBe(b.normalized);
    expect(a.normalized).not.toBe(c.normalized);
  });
});

describe('the guard’s memory of accepted SQL', () => {
  // A long IN list: its parse tree is many times the size of its text.
  const longQuery = (seed: number) =>
    `SELECT region FROM sales WHERE amount IN (${Array.from({ length: 2000 }, (_, i) => seed * 10_000 + i).join(',')})`;

  it('answers the same SQL again from memory', async () => {
    const guard = memoizedGuard(16 * 1024 * 1024);
    const sql = longQuery(1);
    expect(await guard(sql)).toBe(await guard(sql));
  });

  it('is bounded by bytes: a few large parse trees push the oldest out, however few they are', async () => {
    const guard = memoizedGuard(1024 * 1024);
    const first = await guard(longQuery(0));
    for (let seed = 1; seed <= 20; seed++) await guard(longQuery(seed));
    // Parsed again, not remembered: a new object with equal content.
    const again = await guard(longQuery(0));
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});
