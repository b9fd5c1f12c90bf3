import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { load, refusal, typesOf } from './testing.ts';

function sampleParquet(): Buffer {
  const day = (iso: string) => new Date(`${iso}T00:00:00Z`);
  const columnData = [
    { name: 'id', data: [1, 2, 3] },
    { name: 'big', data: [9007199254740993n, -1n, null] },
    { name: 'price', data: [1.5, null, 2.25] },
    { name: 'ok', data: [true, false, null] },
    { name: 'name', data: ['Zoë 😀', 'tab\there', null] },
    { name: 'day', data: [day('2024-02-29'), day('1999-12-31'), null] },
    { name: 'at', data: [1709164800123456n, 0n, null] },
    { name: 'meta', data: [{ a: 1 }, [1, 2], null] },
    { name: 'code', data: ['007', '12', '3'] },
  ];
  const buffer = parquetWriteBuffer({
    columnData,
    schema: [
      { name: 'root', num_children: columnData.length },
      { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'big', type: 'INT64', repetition_type: 'OPTIONAL' },
      { name: 'price', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
      { name: 'ok', type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
      { name: 'name', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'day', type: 'INT32', converted_type: 'DATE', repetition_type: 'OPTIONAL' },
      { name: 'at', type: 'INT64', converted_type: 'TIMESTAMP_MICROS', repetition_type: 'OPTIONAL' },
      { name: 'meta', type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type: 'OPTIONAL' },
      { name: 'code', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    ],
    // Two row groups: the reader goes through them one at a time.
    rowGroupSize: 2,
  });
  return Buffer.from(buffer);
}

const leftovers = async (): Promise<string[]> =>
  (await readdir(tmpdir())).filter((name) => name.startsWith('datalab-ingest-'));

describe('Parquet ingestion', () => {
  it('takes the types from the Parquet schema and round-trips every value, row group by row group', async () => {
    const before = await leftovers();
    const { result, columns, rows } = await load(sampleParquet(), { filename: 'facts.parquet' });

    expect(result.format).toBe('parquet');
    expect(result.encoding).toBeUndefined();
    expect(typesOf(columns)).toEqual({
      id: 'integer',
      big: 'integer',
      price: 'float',
      ok: 'boolean',
      name: 'text',
      day: 'date',
      at: 'timestamp',
      meta: 'json',
      code: 'text',
    });
    expect(rows).toEqual([
      [
        '1',
        '9007199254740993',
        '1.5',
        't',
        'Zoë 😀',
        '2024-02-29',
        '2024-02-29T00:00:00.123456Z',
        '{"a":1}',
        '007',
      ],
      ['2', '-1', null, 'f', 'tab\there', '1999-12-31', '1970-01-01T00:00:00.000Z', '[1,2]', '12'],
      ['3', null, '2.25', null, null, null, null, null, '3'],
    ]);
    expect(await leftovers()).toEqual(before);
  });

  it('is recognised by its content when the name says nothing', async () => {
    const { result } = await load(sampleParquet(), { filename: 'upload.bin' });
    expect(result.format).toBe('parquet');
  });

  it('lets an override change a declared type', async () => {
    const { columns, rows } = await load(sampleParquet(), {
      filename: 'facts.parquet',
      columnTypes: { id: 'text', code: 'integer' },
      onError: 'skip',
    });
    expect(typesOf(columns)).toMatchObject({ id: 'text', code: 'integer' });
    expect(rows.map((row) => [row[0], row[8]])).toEqual([
      ['2', '12'],
      ['3', '3'],
    ]);
  });

  it('refuses a file named .parquet that is not one, and leaves no temporary file behind', async () => {
    const before = await leftovers();
    const notParquet = await refusal('id,name\n1,x\n', { filename: 'facts.parquet' });
    expect(notParquet.kind).toBe('unsupported');

    const broken = Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(100, 7), Buffer.from('PAR1')]);
    const error = await refusal(broken, { filename: 'facts.parquet' });
    expect(error.kind).toBe('unsupported');
    expect(error.message).toMatch(/^This is not a readable Parquet file/);
    expect(await leftovers()).toEqual(before);
  });
});
