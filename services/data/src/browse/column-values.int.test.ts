import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '@datalab/platform';
import { testDatabase } from '../../../../test/helpers.ts';
import { SQL_TYPE, type ColumnType } from '../datasets/datasets.types.ts';
import { fitsType } from './column-values.ts';

// What people type and what PostgreSQL writes must fit; what would fail in the query must not.
// Some odd forms PostgreSQL would take (' 1', '0x10', '2024-1-1', 'now') are refused on purpose.
const FIT: Record<ColumnType, string[]> = {
  integer: ['0', '-12', '+7', '9223372036854775807', '-9223372036854775808'],
  float: ['1.5', '-0', '.5', '5.', '1e-3', '1E+300', 'NaN', '-Infinity', 'inf', '0e5'],
  boolean: ['true', 'FALSE', 't', 'f', '1', '0'],
  date: ['2024-02-29', '0044-03-15 BC', '0001-01-01', 'infinity', '-infinity'],
  timestamp: [
    '2024-05-06T07:08:09Z',
    '2024-05-06 07:08:09.123456+00',
    '2024-05-06 07:08:09.1234567+05:30',
    '2024-05-06T07:08',
    '2024-05-06',
    '2024-05-06T23:59:60Z',
    '1900-01-01 00:00:00+00:09:21',
    '0044-03-15 12:00:00+00 BC',
    'infinity',
  ],
  text: ['', 'anything at all', 'Zürich 🚀'],
  json: ['{"a":1}', '[1,2]', '"x"', '1', 'null'],
};
const MISFIT: Record<ColumnType, string[]> = {
  integer: ['9223372036854775808', '1.5', '1e3', '', ' 1', 'x'],
  float: ['1e999', '1e-400', '1,5', '', '0x10'],
  boolean: ['maybe', '', 'yes'],
  date: ['2023-02-29', '2024-13-01', '2024-04-31', '0000-01-01', '2024-1-1', 'yesterday', ''],
  timestamp: ['2024-05-06T24:00:00', '2024-05-06T07:61:00', '2024-05-06 07:08:09+16', 'now', ''],
  text: ['nul\u0000byte'],
  json: ['{bad', '"\\u0000"', "{'a':1}", ''],
};
const TYPES = Object.keys(FIT) as ColumnType[];

describe('which caller values fit a column type', () => {
  let db: Database;

  beforeAll(async () => {
    db = await testDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  async function postgresAccepts(type: ColumnType, text: string): Promise<boolean> {
    try {
      await db.pool.query(`SELECT $1::${SQL_TYPE[type]}`, [text]);
      return true;
    } catch {
      return false;
    }
  }

  it.each(TYPES)(
    'accepts %s values as typed or as PostgreSQL writes them, all of which PostgreSQL reads',
    async (type) => {
      for (const text of FIT[type]) {
        expect({ text, fits: fitsType(type, text), postgres: await postgresAccepts(type, text) }).toEqual({
          text,
          fits: true,
          postgres: true,
        });
      }
    },
  );

  it.each(TYPES)(
    'refuses %s values that would fail in the query, or are only loosely meant',
    async (type) => {
      for (const text of MISFIT[type])
        expect({ text, fits: fitsType(type, text) }).toEqual({ text, fits: false });
    },
  );
});
