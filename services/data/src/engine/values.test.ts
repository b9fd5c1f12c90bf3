import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFixture, limits, type EngineFixture } from './engine.test-fixtures.ts';
import { readAll } from './run-statement.ts';

let fx: EngineFixture;

beforeAll(async () => {
  fx = await engineFixture();
});
afterAll(async () => {
  await fx.close();
});

async function value(expression: string): Promise<{ value: unknown; type: string }> {
  const { columns, rows } = await readAll(
    await fx.engine.run({ sql: `SELECT ${expression} AS v`, datasets: {}, limits }),
  );
  return { value: rows[0]?.[0], type: columns[0]!.type };
}

describe('DuckDB values as JSON-safe answer values', () => {
  it.each([
    ['BOOLEAN', 'true', true, 'boolean'],
    ['INTEGER', '42::INTEGER', 42, 'integer'],
    ['a safe BIGINT', '9007199254740991::BIGINT', 9007199254740991, 'integer'],
    ['an unsafe BIGINT, as exact text', '9007199254740993::BIGINT', '9007199254740993', 'integer'],
    ['UBIGINT', '18446744073709551615::UBIGINT', '18446744073709551615', 'integer'],
    [
      'HUGEINT',
      '170141183460469231731687303715884105727::HUGEINT',
      '170141183460469231731687303715884105727',
      'integer',
    ],
    ['a small HUGEINT', '12::HUGEINT', 12, 'integer'],
    ['DOUBLE', '0.1::DOUBLE', 0.1, 'float'],
    ['NaN, as null', "'NaN'::DOUBLE", null, 'float'],
    ['Infinity, as null', "'Infinity'::FLOAT", null, 'float'],
    ['a narrow DECIMAL, as a number', '12.345::DECIMAL(5,3)', 12.345, 'float'],
    [
      'a wide DECIMAL, as exact text',
      '123456789012345678901234567890.1::DECIMAL(38,1)',
      '123456789012345678901234567890.1',
      'float',
    ],
    ['DATE', "DATE '2024-02-29'", '2024-02-29', 'date'],
    ['an infinite DATE', "'-infinity'::DATE", '-infinity', 'date'],
    ['TIMESTAMP', "TIMESTAMP '2001-02-03 04:05:06.7'", '2001-02-03T04:05:06.7', 'timestamp'],
    [
      'TIMESTAMP_NS',
      "TIMESTAMP_NS '2001-02-03 04:05:06.123456789'",
      '2001-02-03T04:05:06.123456789',
      'timestamp',
    ],
    [
      'TIMESTAMPTZ, in UTC',
      "TIMESTAMPTZ '2001-02-03 04:05:06.789+02'",
      '2001-02-03T02:05:06.789Z',
      'timestamp',
    ],
    ['an infinite TIMESTAMP', "'infinity'::TIMESTAMP", 'infinity', 'timestamp'],
    ['TIME', "TIME '12:34:56.5'", '12:34:56.5', 'text'],
    ['TIMETZ', "TIMETZ '12:34:56+02'", '12:34:56+02', 'text'],
    ['INTERVAL', "INTERVAL '1 year 2 days 3 hours'", '1 year 2 days 03:00:00', 'text'],
    ['UUID', "'6f1a7c1e-6b1f-4a53-9b0a-3f0e9b7a2c11'::UUID", '6f1a7c1e-6b1f-4a53-9b0a-3f0e9b7a2c11', 'text'],
    [
      'BLOB, as base64',
      "'\\xAA\\x00abc'::BLOB",
      Buffer.from([0xaa, 0, 0x61, 0x62, 0x63]).toString('base64'),
      'text',
    ],
    ['ENUM', "'b'::ENUM('a', 'b')", 'b', 'text'],
    ['BIT', "'101'::BIT", '101', 'text'],
    ['VARCHAR', "'héllo'", 'héllo', 'text'],
    ['NULL', 'NULL::VARCHAR', null, 'text'],
    ['LIST', '[1, NULL, 3]', [1, null, 3], 'json'],
    ['ARRAY', '[1.5, 2.5]::DOUBLE[2]', [1.5, 2.5], 'json'],
    [
      'STRUCT with nested values',
      "{'a': 1, 'b': [DATE '2020-01-02'], 'c': NULL}",
      { a: 1, b: ['2020-01-02'], c: null },
      'json',
    ],
    [
      'MAP, as key/value pairs',
      "MAP {'k': 1, 'l': 2}",
      [
        { key: 'k', value: 1 },
        { key: 'l', value: 2 },
      ],
      'json',
    ],
    ['UNION, as its member', "'x'::UNION(n INTEGER, s VARCHAR)", 'x', 'json'],
    ['a list of unsafe BIGINTs', '[9007199254740993::BIGINT]', ['9007199254740993'], 'json'],
  ])('converts %s', async (_what, expression, expected, type) => {
    expect(await value(expression)).toEqual({ value: expected, type });
  });

  it('refuses VARIANT values, whose size cannot be read before conversion', async () => {
    await expect(fx.engine.run({ sql: 'SELECT 1::VARIANT AS v', datasets: {}, limits })).rejects.toThrow(
      /VARIANT values cannot be answered/,
    );
  });

  it('converts a small aggregate answer in well under a millisecond', async () => {
    const result = await fx.engine.run({
      sql: 'SELECT region, count(*) AS n, avg(amount) AS mean FROM sales GROUP BY region',
      datasets: fx.datasets,
      limits,
    });
    const started = process.hrtime.bigint();
    const { rows } = await readAll(result);
    const micros = Number(process.hrtime.bigint() - started) / 1000;
    expect(rows).toHaveLength(2);
    // Reading includes DuckDB's fetch of the one chunk; conversion itself is a few microseconds.
    expect(micros).toBeLessThan(5_000);
  });
});
