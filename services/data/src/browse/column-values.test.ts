import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { ColumnType } from '../datasets/datasets.types.ts';
import { duckValue, fitsType } from './column-values.ts';

// What people type and what DuckDB writes must fit, and DuckDB must read each as the value meant.
// Some odd forms DuckDB would take (' 1', '2024-1-1', 'now', a leap second it refuses) are refused on purpose.
const FIT: Record<ColumnType, string[]> = {
  integer: ['0', '-12', '+7', '9223372036854775807', '-9223372036854775808'],
  float: ['1.5', '-0', '.5', '5.', '1e-3', '1E+300', 'NaN', '-Infinity', 'inf', 'nan', '1e+20', '0e5'],
  boolean: ['true', 'FALSE', 't', 'f', '1', '0'],
  date: ['2024-02-29', '0044-03-15 BC', '0044-03-15 (BC)', '0001-01-01', 'infinity', '-infinity'],
  timestamp: [
    '2024-05-06T07:08:09Z',
    '2024-05-06 07:08:09.123456+00',
    '2024-05-06 07:08:09.1234567+05:30',
    '2024-05-06t07:08:09z',
    '2024-05-06T07:08',
    '2024-05-06',
    '2024-05-06 07:08:09 +01',
    '1900-01-01 00:00:00+00:09:21',
    'infinity',
  ],
  text: ['', 'anything at all', 'Zürich 🚀', "it's"],
  json: ['{"a":1}', '[1,2]', '"x"', '1', 'null'],
};
const MISFIT: Record<ColumnType, string[]> = {
  integer: ['9223372036854775808', '1.5', '1e3', '', ' 1', 'x'],
  float: ['1e999', '1e-400', '1,5', '', '0x10'],
  boolean: ['maybe', '', 'yes'],
  date: ['2023-02-29', '2024-13-01', '2024-04-31', '0000-01-01', '2024-1-1', 'yesterday', ''],
  timestamp: [
    '2024-05-06T24:00:00',
    '2024-05-06T07:61:00',
    '2024-05-06 07:08:09+16',
    '2024-05-06T23:59:60Z',
    '0044-03-15 12:00:00+00 BC',
    '294247-02-01 00:00:00',
    'now',
    '',
  ],
  text: ['nul\u0000byte'],
  json: ['{bad', '"\\u0000"', "{'a':1}", ''],
};
const TYPES = Object.keys(FIT) as ColumnType[];

describe('which caller values fit a column type', () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;

  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    connection = await instance.connect();
  });
  afterAll(() => {
    connection.closeSync();
    instance.closeSync();
  });

  const read = async (type: ColumnType, text: string): Promise<string> => {
    const reader = await connection.runAndReadAll(`SELECT CAST(${duckValue(type, text)} AS VARCHAR)`);
    return String(reader.getRows()[0]?.[0]);
  };

  it.each(TYPES)(
    'accepts %s values as typed or as DuckDB writes them, all of which DuckDB reads',
    async (type) => {
      for (const text of FIT[type]) {
        expect({ text, fits: fitsType(type, text) }).toEqual({ text, fits: true });
        await expect(read(type, text), text).resolves.toEqual(expect.any(String));
      }
    },
  );

  it.each(TYPES)('refuses %s values that would fail in the query, or are only loosely meant', (type) => {
    for (const text of MISFIT[type])
      expect({ text, fits: fitsType(type, text) }).toEqual({ text, fits: false });
  });

  it.each<[ColumnType, string, string]>([
    ['date', '0044-03-15 BC', '0044-03-15 (BC)'],
    ['timestamp', '2024-05-06', '2024-05-06 00:00:00+00'],
    ['timestamp', '2024-05-06t07:08:09.5z', '2024-05-06 07:08:09.5+00'],
    ['timestamp', '2024-05-06 08:08:09 +01', '2024-05-06 07:08:09+00'],
    ['text', "it's", "it's"],
    ['float', '-Infinity', '-inf'],
  ])('reads the %s %j as %j (UTC unless an offset is given)', async (type, text, meant) => {
    expect(await read(type, text)).toBe(meant);
  });
});
