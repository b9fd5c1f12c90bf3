import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, testDatabase, uniqueName } from '../../../../test/helpers.ts';
import type { Database } from './database.ts';
import { migrate } from './migrate.ts';

async function migrationsDir(files: Record<string, string>): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'datalab-migrations-'));
  for (const [name, sql] of Object.entries(files)) await writeFile(path.join(directory, name), sql);
  return directory;
}

describe('migrate', () => {
  let db: Database;
  const schemas: string[] = [];

  beforeAll(async () => {
    db = await testDatabase();
  });
  afterAll(async () => {
    for (const schema of schemas) await db.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
  });

  function newSchema(): string {
    const schema = uniqueName('mig');
    schemas.push(schema);
    return schema;
  }

  it('applies pending migrations in name order and nothing the second time', async () => {
    const schema = newSchema();
    const directory = await migrationsDir({
      '0002_rows.sql': `INSERT INTO ${schema}.things (name) VALUES ('second')`,
      '0001_table.sql': `CREATE TABLE ${schema}.things (name text)`,
    });

    const first = await migrate(db.pool, { schema, directory, logger: silentLogger });
    const second = await migrate(db.pool, { schema, directory, logger: silentLogger });

    expect(first).toEqual(['0001_table.sql', '0002_rows.sql']);
    expect(second).toEqual([]);
    const rows = await db.pool.query(`SELECT name FROM ${schema}.things`);
    expect(rows.rows).toEqual([{ name: 'second' }]);
  });

  it('lets one of many concurrent runners apply each migration exactly once', async () => {
    const schema = newSchema();
    const directory = await migrationsDir({
      '0001_table.sql': `CREATE TABLE ${schema}.counter (n int); INSERT INTO ${schema}.counter VALUES (1)`,
      '0002_bump.sql': `UPDATE ${schema}.counter SET n = n + 1`,
    });

    const results = await Promise.all(
      Array.from({ length: 6 }, () => migrate(db.pool, { schema, directory, logger: silentLogger })),
    );

    expect(results.flat().sort()).toEqual(['0001_table.sql', '0002_bump.sql']);
    const counter = await db.pool.query(`SELECT n FROM ${schema}.counter`);
    expect(counter.rows).toEqual([{ n: 2 }]);
  });

  it('rolls back a failing migration entirely and records nothing for it', async () => {
    const schema = newSchema();
    const directory = await migrationsDir({
      '0001_ok.sql': `CREATE TABLE ${schema}.kept (id int)`,
      '0002_broken.sql': `CREATE TABLE ${schema}.half (id int); SELECT no_such_column FROM ${schema}.kept`,
    });

    await expect(migrate(db.pool, { schema, directory, logger: silentLogger })).rejects.toThrow(
      /0002_broken\.sql failed/,
    );

    const tables = await db.pool.query(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
      [schema],
    );
    expect(tables.rows.map((r: { table_name: string }) => r.table_name).sort()).toEqual([
      'kept',
      'schema_migrations',
    ]);
    const applied = await db.pool.query(`SELECT name FROM ${schema}.schema_migrations`);
    expect(applied.rows).toEqual([{ name: '0001_ok.sql' }]);
  });

  it('refuses to continue when an applied migration was edited afterwards', async () => {
    const schema = newSchema();
    const directory = await migrationsDir({ '0001_table.sql': `CREATE TABLE ${schema}.t (id int)` });
    await migrate(db.pool, { schema, directory, logger: silentLogger });
    await writeFile(path.join(directory, '0001_table.sql'), `CREATE TABLE ${schema}.t (id bigint)`);

    await expect(migrate(db.pool, { schema, directory, logger: silentLogger })).rejects.toThrow(
      /changed after it was applied/,
    );
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    const directory = await migrationsDir({});
    await expect(
      migrate(db.pool, { schema: 'x; DROP SCHEMA public', directory, logger: silentLogger }),
    ).rejects.toThrow(/invalid schema name/);
  });
});
