import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, uniqueName } from '../../../../test/helpers.ts';
import type { Database } from './database.ts';
import { selectPage } from './page.ts';

describe('selectPage', () => {
  let db: Database;
  const schema = uniqueName('page');

  beforeAll(async () => {
    db = await testDatabase();
    await db.pool.query(`CREATE SCHEMA ${schema}`);
    await db.pool.query(`CREATE TABLE ${schema}.things (n integer, kind text)`);
    await db.pool.query(
      `INSERT INTO ${schema}.things SELECT n, CASE WHEN n % 2 = 0 THEN 'even' ELSE 'odd' END
       FROM generate_series(1, 9) AS n`,
    );
  });
  afterAll(async () => {
    await db.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
  });

  it('answers the page asked for and the count of every matching row, limit and offset after the filter’s parameters', async () => {
    const page = await selectPage<{ n: number }>(
      db.pool,
      { columns: 'n', from: `${schema}.things`, where: 'kind = $1', orderBy: 'n DESC', params: ['odd'] },
      2,
      1,
    );
    expect(page).toEqual({ rows: [{ n: 7 }, { n: 5 }], total: 5 });
  });

  it('counts every row with TRUE and answers an empty page past the end', async () => {
    const page = await selectPage<{ n: number }>(
      db.pool,
      { columns: 'n', from: `${schema}.things`, where: 'TRUE', orderBy: 'n', params: [] },
      10,
      20,
    );
    expect(page).toEqual({ rows: [], total: 9 });
  });
});
