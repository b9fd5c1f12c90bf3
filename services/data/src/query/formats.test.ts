import { tableFromIPC } from 'apache-arrow';
import { parse as parseCsv } from 'csv-parse/sync';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { encode, formatFromAccept } from './formats.ts';
import type { QueryFormat } from './query.schemas.ts';
import type { ResultColumn, ResultValue } from './result-values.ts';

const columns: ResultColumn[] = [
  { name: 'id', type: 'integer' },
  { name: 'price', type: 'float' },
  { name: 'ok', type: 'boolean' },
  { name: 'day', type: 'date' },
  { name: 'at', type: 'timestamp' },
  { name: 'name', type: 'text' },
  { name: 'doc', type: 'json' },
];
const first: ResultValue[][] = [
  [
    '9007199254740993',
    1.25,
    true,
    '2024-02-29',
    '2024-01-02T03:04:05.123456Z',
    'a, "quoted"\nline',
    { k: [1, 'x'] },
  ],
  [-5, -0.5, false, '1969-07-20', '1969-07-20T20:17:40.5Z', '', null],
];
const second: ResultValue[][] = [[null, null, null, null, null, 'Zürich 東京', [1, 2]]];

const arrayBufferOf = (bytes: Buffer): ArrayBuffer =>
  bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

async function bytes(format: QueryFormat, truncated = false): Promise<Buffer> {
  async function* batches(): AsyncGenerator<ResultValue[][]> {
    yield first;
    yield second;
  }
  const chunks: Uint8Array[] = [];
  for await (const chunk of encode(format, { columns, batches: batches(), truncated })) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

describe('answer formats', () => {
  it('writes JSON with column types, rows, the count and the truncated flag', async () => {
    const answer = JSON.parse((await bytes('json', true)).toString('utf8')) as unknown;
    expect(answer).toEqual({ columns, rows: [...first, ...second], row_count: 3, truncated: true });
  });

  it('writes RFC 4180 CSV that reads back to the same text, telling NULL from an empty string', async () => {
    const text = (await bytes('csv')).toString('utf8');
    expect(text.startsWith('id,price,ok,day,at,name,doc\r\n')).toBe(true);
    const records = parseCsv(text, {
      columns: true,
      cast: (value, context) => (context.quoting ? value : value || null),
    });
    expect(records).toEqual([
      {
        id: '9007199254740993',
        price: '1.25',
        ok: 'true',
        day: '2024-02-29',
        at: '2024-01-02T03:04:05.123456Z',
        name: 'a, "quoted"\nline',
        doc: '{"k":[1,"x"]}',
      },
      {
        id: '-5',
        price: '-0.5',
        ok: 'false',
        day: '1969-07-20',
        at: '1969-07-20T20:17:40.5Z',
        name: '',
        doc: null,
      },
      { id: null, price: null, ok: null, day: null, at: null, name: 'Zürich 東京', doc: '[1,2]' },
    ]);
  });

  it('writes an Arrow IPC stream that decodes to the same values, timestamps to the microsecond', async () => {
    const table = tableFromIPC(await bytes('arrow'));
    expect(table.schema.fields.map((field) => String(field.type))).toEqual([
      'Int64',
      'Float64',
      'Bool',
      'Date32<DAY>',
      'Timestamp<MICROSECOND, UTC>',
      'Utf8',
      'Utf8',
    ]);
    expect(table.toArray().map((row: { toJSON: () => unknown }) => row.toJSON())).toEqual([
      {
        id: 9007199254740993n,
        price: 1.25,
        ok: true,
        day: Date.UTC(2024, 1, 29),
        at: 1704164645123.456,
        name: 'a, "quoted"\nline',
        doc: '{"k":[1,"x"]}',
      },
      { id: -5n, price: -0.5, ok: false, day: Date.UTC(1969, 6, 20), at: -14182939500, name: '', doc: null },
      { id: null, price: null, ok: null, day: null, at: null, name: 'Zürich 東京', doc: '[1,2]' },
    ]);
  });

  it('writes Parquet that decodes to the same values, timestamps to the microsecond', async () => {
    const file = await bytes('parquet');
    const rows = await parquetReadObjects({
      file: arrayBufferOf(file),
      parsers: {
        timestampFromMicroseconds: (micros: bigint) => micros,
        dateFromDays: (days: number) => days,
      },
    });
    expect(rows).toEqual([
      {
        id: 9007199254740993n,
        price: 1.25,
        ok: true,
        day: 19782,
        at: 1704164645123456n,
        name: 'a, "quoted"\nline',
        doc: { k: [1, 'x'] },
      },
      { id: -5n, price: -0.5, ok: false, day: -165, at: -14182939500000n, name: '', doc: null },
      { id: null, price: null, ok: null, day: null, at: null, name: 'Zürich 東京', doc: [1, 2] },
    ]);
  });

  it.each([true, false])(
    'says in Arrow schema metadata and Parquet key-value metadata whether rows were cut (%s)',
    async (truncated) => {
      const arrow = tableFromIPC(await bytes('arrow', truncated));
      expect(arrow.schema.metadata.get('datalab.truncated')).toBe(String(truncated));
      const parquet = parquetMetadata(arrayBufferOf(await bytes('parquet', truncated)));
      expect(parquet.key_value_metadata).toContainEqual({
        key: 'datalab.truncated',
        value: String(truncated),
      });
    },
  );

  it('writes well-formed empty answers in every format', async () => {
    async function* nothing(): AsyncGenerator<ResultValue[][]> {}
    const empty = async (format: QueryFormat): Promise<Buffer> => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of encode(format, { columns, batches: nothing(), truncated: false }))
        chunks.push(chunk);
      return Buffer.concat(chunks);
    };
    expect(JSON.parse((await empty('json')).toString('utf8'))).toMatchObject({ rows: [], row_count: 0 });
    expect((await empty('csv')).toString('utf8')).toBe('id,price,ok,day,at,name,doc\r\n');
    expect(tableFromIPC(await empty('arrow')).numRows).toBe(0);
    const parquet = await empty('parquet');
    expect(
      await parquetReadObjects({
        file: arrayBufferOf(parquet),
      }),
    ).toEqual([]);
  });

  it.each([
    ['text/csv', 'csv'],
    ['application/vnd.apache.arrow.stream', 'arrow'],
    ['application/vnd.apache.parquet', 'parquet'],
    ['application/json', 'json'],
    ['text/html, text/csv;q=0.5, application/vnd.apache.parquet;q=0.9', 'parquet'],
    ['*/*', undefined],
    [undefined, undefined],
  ])('reads the format %s asks for from Accept', (accept, format) => {
    expect(formatFromAccept(accept)).toBe(format);
  });
});
