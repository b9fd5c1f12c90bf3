import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFixture, limits, writeParquet, type EngineFixture } from './engine.test-fixtures.ts';
import { ROW_NUMBER_COLUMN, rowsRelation, type DatasetSource } from './instance-pool.ts';
import { readAll } from './run-statement.ts';

describe('rows numbered in file order', () => {
  let fx: EngineFixture;
  let source: DatasetSource;

  beforeAll(async () => {
    fx = await engineFixture();
    // An append as a second file: its rows come after the first file's, whatever their values.
    const appended = path.join(fx.storageDir, 'ds_sales', 'v2', 'part-1.parquet');
    await writeParquet(
      appended,
      "SELECT * FROM (VALUES (0, 'east', 1.0), (9, 'west', 2.0)) t(id, region, amount)",
    );
    source = { files: [fx.salesFile, appended], columns: ['id', 'region', 'amount'] };
  });
  afterAll(() => fx.close());

  const rows = async (where: string) => {
    const sql = `SELECT id, "${ROW_NUMBER_COLUMN}" FROM ${rowsRelation(source)} AS r ${where} ORDER BY "${ROW_NUMBER_COLUMN}"`;
    return (await readAll(await fx.engine.run({ sql, datasets: { sales: source }, limits }))).rows;
  };

  it('numbers the rows of each file in turn, the files in list order', async () => {
    const all = await rows('');
    expect(all.map(([id]) => id)).toEqual([1, 2, 3, 0, 9]);
    const numbers = all.map(([, row]) => Number(row));
    expect(numbers.slice(0, 3)).toEqual([0, 1, 2]);
    expect(numbers.slice(3)).toEqual([2 ** 40, 2 ** 40 + 1]);
  });

  it('keeps the numbering under a condition on it, across the files', async () => {
    expect((await rows(`WHERE "${ROW_NUMBER_COLUMN}" > 1`)).map(([id]) => id)).toEqual([3, 0, 9]);
    expect((await rows(`WHERE "${ROW_NUMBER_COLUMN}" > ${2 ** 40}`)).map(([id]) => id)).toEqual([9]);
  });

  it('adds only its number to the dataset’s columns', async () => {
    const sql = `SELECT * FROM ${rowsRelation(source)} AS r LIMIT 1`;
    const { columns } = await readAll(await fx.engine.run({ sql, datasets: { sales: source }, limits }));
    expect(columns.map((column) => column.name)).toEqual(['id', 'region', 'amount', ROW_NUMBER_COLUMN]);
  });
});
