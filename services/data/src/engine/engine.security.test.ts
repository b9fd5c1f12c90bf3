import { existsSync } from 'node:fs';
import path from 'node:path';
import { isAppError } from '@datalab/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFixture, limits, type EngineFixture } from './engine.test-fixtures.ts';
import { readAll } from './run-statement.ts';

/**
 * Every DuckDB way to reach files, URLs, the environment, settings or other
 * datasets, tried twice: through `query` (the guard refuses it, naming what
 * and where) and through `run`, the lower layer that takes raw SQL without
 * the guard, where the locked instance itself must make it fail.
 */

let fx: EngineFixture;
const outside = (name: string): string => path.join(fx.root, name);

beforeAll(async () => {
  fx = await engineFixture();
});
afterAll(async () => {
  await fx.close();
});

async function refusal(promise: Promise<unknown>): Promise<{ kind: string; message: string }> {
  try {
    const result = await promise;
    await readAll(result as Parameters<typeof readAll>[0]);
  } catch (error) {
    return { kind: isAppError(error) ? error.kind : 'server', message: (error as Error).message };
  }
  throw new Error('expected the query to fail');
}

const viaGuard = (sql: string) => refusal(fx.engine.query({ sql, datasets: fx.datasets, limits }));
const viaEngine = (sql: string) => refusal(fx.engine.run({ sql, datasets: fx.datasets, limits }));

interface Hostile {
  what: string;
  sql: () => string;
  guard: RegExp;
  engine: RegExp;
  /** A file the statement would create, which must not exist afterwards. */
  writes?: () => string;
}

const PERMISSION = /Permission Error|file system operations are disabled/;
const NOT_SELECT = /statements are not allowed: a query is one SELECT|exactly one statement/;
/** DuckDB refuses some statements while binding them, before their type is even checked. */
const NOT_SELECT_OR_BINDER =
  /statements are not allowed: a query is one SELECT|Binder Error: Can only (update|delete from|insert into) base table|is not an table|Permission Error/;

const hostile: Hostile[] = [
  {
    what: "read_csv('/etc/passwd')",
    sql: () => "SELECT * FROM read_csv('/etc/passwd')",
    guard: /Table function read_csv\(\) is not allowed.*line 1, column 15/,
    engine: PERMISSION,
  },
  {
    what: 'read_text',
    sql: () => "SELECT * FROM read_text('/etc/passwd')",
    guard: /read_text\(\) is not allowed/,
    engine: PERMISSION,
  },
  {
    what: 'read_blob',
    sql: () => "SELECT * FROM read_blob('/etc/hostname')",
    guard: /read_blob\(\) is not allowed/,
    engine: PERMISSION,
  },
  {
    what: 'glob',
    sql: () => "SELECT * FROM glob('/etc/*')",
    guard: /glob\(\) is not allowed/,
    engine: PERMISSION,
  },
  {
    what: 'glob over the storage directory',
    sql: () => `SELECT * FROM glob('${fx.storageDir}/**')`,
    guard: /glob\(\) is not allowed/,
    engine: PERMISSION,
  },
  {
    what: "'file.parquet' as a table",
    sql: () => "SELECT * FROM 'file.parquet'",
    guard: /"file.parquet" is not a dataset name/,
    engine: /does not exist|Permission/,
  },
  {
    what: "'/etc/passwd' as a table",
    sql: () => "SELECT * FROM '/etc/passwd'",
    guard: /"\/etc\/passwd" is not a dataset name/,
    engine: /does not exist|Permission/,
  },
  {
    what: 'a quoted path as a table',
    sql: () => 'SELECT * FROM "/etc/passwd"',
    guard: /is not a dataset name/,
    engine: /does not exist|Permission/,
  },
  {
    what: 'another dataset by path with read_parquet',
    sql: () => `SELECT * FROM read_parquet('${fx.secretsFile}')`,
    guard: /read_parquet\(\) is not allowed/,
    engine: PERMISSION,
  },
  {
    what: 'another dataset by path as a table',
    sql: () => `SELECT * FROM '${fx.secretsFile}'`,
    guard: /is not a dataset name/,
    engine: PERMISSION,
  },
  {
    what: 'another dataset by name',
    sql: () => 'SELECT * FROM secrets',
    guard: /Dataset "secrets" not found/,
    engine: /Table with name secrets does not exist/,
  },
  {
    what: 'an https URL',
    sql: () => "SELECT * FROM read_parquet('https://example.com/x.parquet')",
    guard: /read_parquet\(\) is not allowed/,
    engine: PERMISSION,
  },
  {
    what: 'an https URL as a table',
    sql: () => "SELECT * FROM 'https://example.com/x.csv'",
    guard: /is not a dataset name/,
    engine: /Permission|does not exist/,
  },
  {
    what: 'an s3 URL',
    sql: () => "SELECT * FROM 's3://bucket/x.parquet'",
    guard: /is not a dataset name/,
    engine: /Permission|does not exist/,
  },
  {
    what: 'ATTACH',
    sql: () => `ATTACH '${outside('x.db')}' AS x`,
    guard: /Only a SELECT query is allowed/,
    engine: NOT_SELECT,
    writes: () => outside('x.db'),
  },
  {
    what: 'ATTACH in memory',
    sql: () => "ATTACH ':memory:' AS x",
    guard: /Only a SELECT query is allowed/,
    engine: NOT_SELECT,
  },
  {
    what: 'COPY … TO',
    sql: () => `COPY (SELECT * FROM sales) TO '${outside('out.csv')}'`,
    guard: /Only a SELECT query is allowed/,
    engine: NOT_SELECT_OR_BINDER,
    writes: () => outside('out.csv'),
  },
  {
    what: 'COPY over the caller’s own dataset file',
    sql: () => `COPY (SELECT 1 AS x) TO '${fx.salesFile}' (FORMAT parquet, USE_TMP_FILE false)`,
    guard: /Only a SELECT query is allowed/,
    engine: NOT_SELECT,
  },
  {
    what: 'COPY … FROM',
    sql: () => "COPY sales FROM '/etc/passwd'",
    guard: /Only a SELECT query is allowed/,
    engine: NOT_SELECT_OR_BINDER,
  },
  {
    what: 'EXPORT DATABASE',
    sql: () => `EXPORT DATABASE '${outside('export')}'`,
    guard: /Only a SELECT query is allowed/,
    engine: NOT_SELECT_OR_BINDER,
    writes: () => outside('export'),
  },
  {
    what: 'SET',
    sql: () => 'SET enable_external_access = true',
    guard: /Only a SELECT query is allowed/,
    engine: NOT_SELECT,
  },
  {
    what: 'SET allowed_directories',
    sql: () => "SET allowed_directories = ['/']",
    guard: /Only a SELECT query is allowed/,
    engine: NOT_SELECT,
  },
  {
    what: 'RESET',
    sql: () => 'RESET lock_configuration',
    guard: /Only a SELECT query is allowed/,
    engine: NOT_SELECT,
  },
  {
    what: 'PRAGMA',
    sql: () => 'PRAGMA threads = 64',
    guard: /Only a SELECT query is allowed/,
    engine: NOT_SELECT,
  },
  {
    what: 'INSTALL',
    sql: () => 'INSTALL httpfs',
    guard: /Only a SELECT query is allowed/,
    engine: NOT_SELECT,
  },
  { what: 'LOAD', sql: () => 'LOAD httpfs', guard: /Only a SELECT query is allowed/, engine: NOT_SELECT },
  {
    what: 'getenv',
    sql: () => "SELECT getenv('HOME')",
    guard: /Function getenv\(\) is not allowed.*line 1, column 8/,
    engine: /getenv does not exist/,
  },
  {
    what: 'current_setting',
    sql: () => "SELECT current_setting('allowed_paths')",
    guard: /Function current_setting\(\) is not allowed/,
    engine: /current_setting\(\) is not allowed/,
  },
  {
    what: 'duckdb_settings()',
    sql: () => 'SELECT * FROM duckdb_settings()',
    guard: /duckdb_settings\(\) is not allowed/,
    engine: /duckdb_settings\(\) is not allowed/,
  },
  {
    what: "query('…')",
    sql: () => "SELECT * FROM query('SELECT * FROM read_csv(''/etc/passwd'')')",
    guard: /Table function query\(\) is not allowed/,
    engine: /query\(\) is not allowed/,
  },
  {
    what: "query_table('…')",
    sql: () => "SELECT * FROM query_table('sales')",
    guard: /query_table\(\) is not allowed/,
    engine: /query_table\(\) is not allowed/,
  },
  {
    what: 'CREATE',
    sql: () => 'CREATE TABLE t AS SELECT 1',
    guard: /Only a SELECT query is allowed/,
    engine: NOT_SELECT,
  },
  {
    what: 'CREATE OR REPLACE VIEW over a dataset',
    sql: () => `CREATE OR REPLACE VIEW sales AS SELECT * FROM read_parquet('${fx.secretsFile}')`,
    guard: /Only a SELECT query is allowed/,
    engine: NOT_SELECT_OR_BINDER,
  },
  {
    what: 'INSERT',
    sql: () => 'INSERT INTO sales VALUES (4, 1, 2)',
    guard: /Only a SELECT query is allowed/,
    engine: NOT_SELECT_OR_BINDER,
  },
  {
    what: 'UPDATE',
    sql: () => 'UPDATE sales SET amount = 0',
    guard: /Only a SELECT query is allowed/,
    engine: NOT_SELECT_OR_BINDER,
  },
  {
    what: 'DELETE',
    sql: () => 'DELETE FROM sales',
    guard: /Only a SELECT query is allowed/,
    engine: NOT_SELECT_OR_BINDER,
  },
  { what: 'DROP', sql: () => 'DROP VIEW sales', guard: /Only a SELECT query is allowed/, engine: NOT_SELECT },
  {
    what: 'CALL',
    sql: () => 'CALL pragma_version()',
    guard: /Only a SELECT query is allowed/,
    engine: NOT_SELECT,
  },
  {
    what: 'two statements',
    sql: () => 'SELECT 1; SELECT 2',
    guard: /exactly one statement; this SQL has 2/,
    engine: /exactly one statement; this SQL has 2/,
  },
  {
    what: 'a comment hiding a second statement',
    sql: () => 'SELECT 1 /* harmless */; DROP VIEW sales -- bye',
    guard: /Only a SELECT query is allowed|exactly one statement/,
    engine: /exactly one statement; this SQL has 2/,
  },
  {
    what: 'a SELECT then a COPY',
    sql: () => `SELECT 1; COPY (SELECT 1) TO '${outside('two.csv')}'`,
    guard: /Only a SELECT query is allowed|exactly one statement/,
    engine: /exactly one statement/,
    writes: () => outside('two.csv'),
  },
  {
    what: 'a catalog-qualified function',
    sql: () => "SELECT system.main.current_setting('threads')",
    guard: /must be called without a catalog or schema/,
    engine: /.*/,
  },
];

describe('hostile SQL', () => {
  it.each(hostile)('refuses $what in the guard, naming why', async (item) => {
    const { kind, message } = await viaGuard(item.sql());
    expect(['invalid', 'not_found']).toContain(kind);
    expect(message).toMatch(item.guard);
    if (item.writes) expect(existsSync(item.writes())).toBe(false);
  });

  it.each(hostile.filter((item) => item.what !== 'a catalog-qualified function'))(
    'makes $what fail in the engine itself when the guard is bypassed',
    async (item) => {
      const { message } = await viaEngine(item.sql());
      expect(message).toMatch(item.engine);
      if (item.writes) expect(existsSync(item.writes())).toBe(false);
    },
  );

  it('still answers the caller’s own dataset after every attempt, unchanged', async () => {
    const { rows } = await readAll(
      await fx.engine.query({
        sql: 'SELECT id, amount FROM sales ORDER BY id',
        datasets: fx.datasets,
        limits,
      }),
    );
    expect(rows).toEqual([
      [1, 10.5],
      [2, 20.25],
      [3, 30],
    ]);
  });
});
