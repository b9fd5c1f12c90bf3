import { describe, expect, it } from 'vitest';
import {
  TRIPS,
  TRIP_COLUMNS,
  TRIP_TYPES,
  tripsJson,
  tripsNdjson,
  tripsParquet,
  tripsText,
  tripsXlsx,
} from './files.contract-fixtures.ts';
import {
  DATASETS,
  contractSuite,
  created,
  fresh,
  jsonOf,
  listedNames,
  refusal,
  rowsOf,
  type DatasetView,
} from './http.contract-fixtures.ts';

describe('uploads: every format, types inferred from the data, the format options', () => {
  const { owner, admin } = contractSuite({ owner: 'editor', admin: 'admin' });

  /** A refused upload leaves no dataset of that name, for its owner or anyone. */
  async function nothingNamed(name: string): Promise<void> {
    await refusal(await owner.call(`${DATASETS}/${name}`), 404, 'Dataset not found');
    expect(await listedNames(admin, name)).toEqual([]);
  }

  it.each([
    ['CSV', 'trips.csv', () => tripsText(), 'csv'],
    ['TSV', 'trips.tsv', () => tripsText('\t'), 'csv'],
    ['JSON', 'trips.json', () => tripsJson(), 'json'],
    ['NDJSON', 'trips.ndjson', () => tripsNdjson(), 'ndjson'],
    ['Parquet', 'trips.parquet', () => tripsParquet(), 'parquet'],
    ['Excel', 'trips.xlsx', () => tripsXlsx(), 'xlsx'],
  ] as const)('%s: the values and types that go in come back out', async (_label, file, make, format) => {
    const name = fresh('trips');
    const upload = await created(owner, await make(), file, { name });
    expect(upload.dataset).toMatchObject({
      name,
      source_format: format,
      row_count: 3,
      columns: TRIP_COLUMNS.map((column) => ({
        name: column,
        original_name: column,
        type: TRIP_TYPES[column],
      })),
    });
    expect(upload.rows_written).toBe(3);
    expect(await rowsOf(owner, `SELECT ${TRIP_COLUMNS.join(', ')} FROM ${name} ORDER BY code`)).toEqual([
      ['007', 'Lyon, "la belle"', '2024-02-29', '2024-03-01T12:30:00Z', true, 12.5, 3],
      ['042', 'Zürich 🏔', '1999-12-31', '2000-01-01T00:00:00Z', false, -0.25, 0],
      ['100', null, null, null, null, 1000000, -7],
    ]);
    expect(TRIPS).toHaveLength(3);
  });

  it('infers each column’s type from its values: leading zeros stay text, dates are dates, JSON is JSON', async () => {
    const name = fresh('inferred');
    const csv = [
      'code,zip,n,x,day,not_a_day,at,ok,doc,mixed,empty',
      '007,01234,1,1.5,2024-02-29,2023-02-29,2024-01-02T03:04:05Z,true,"{""a"":1}",1,',
      '042,75001,-2,2e3,1999-12-31,2024-13-01,2024-01-02 03:04:05+02:00,no,"[1,2]",x,',
      '100,,+3,.5,,,2024-01-02T03:04,F,,2,',
    ].join('\n');
    const upload = await created(owner, `${csv}\n`, 'inferred.csv', { name });
    expect(Object.fromEntries(upload.dataset.columns.map((c) => [c.name, c.type]))).toEqual({
      code: 'text',
      zip: 'text',
      n: 'integer',
      x: 'float',
      day: 'date',
      not_a_day: 'text',
      at: 'timestamp',
      ok: 'boolean',
      doc: 'json',
      mixed: 'text',
      empty: 'text',
    });
    expect(
      await rowsOf(
        owner,
        `SELECT code, zip, n, x, day, not_a_day, at, ok, doc, mixed, empty FROM ${name} ORDER BY code`,
      ),
    ).toEqual([
      ['007', '01234', 1, 1.5, '2024-02-29', '2023-02-29', '2024-01-02T03:04:05Z', true, { a: 1 }, '1', null],
      [
        '042',
        '75001',
        -2,
        2000,
        '1999-12-31',
        '2024-13-01',
        '2024-01-02T01:04:05Z',
        false,
        [1, 2],
        'x',
        null,
      ],
      ['100', null, 3, 0.5, null, null, '2024-01-02T03:04:00Z', false, null, '2', null],
    ]);
  });

  it('takes column types from `types`, over what the values suggest', async () => {
    const name = fresh('typed');
    const upload = await created(owner, 'n,d\n0042,2024-01-01\n-7,2024-02-02\n', 'typed.csv', {
      name,
      types: JSON.stringify({ n: 'text', d: 'text' }),
    });
    expect(upload.dataset.columns.map((c) => c.type)).toEqual(['text', 'text']);
    expect(await rowsOf(owner, `SELECT n, d FROM ${name} ORDER BY d`)).toEqual([
      ['0042', '2024-01-01'],
      ['-7', '2024-02-02'],
    ]);
  });

  it('reads the options: delimiter, no header row, encoding, and the sheet of a workbook', async () => {
    const plain = fresh('semicolons');
    const semicolons = await created(owner, '1;a\n2;b\n', 'raw.csv', {
      name: plain,
      delimiter: ';',
      header: 'false',
    });
    expect(semicolons.dataset.columns).toEqual([
      { name: 'column_1', original_name: 'column_1', type: 'integer' },
      { name: 'column_2', original_name: 'column_2', type: 'text' },
    ]);
    expect(await rowsOf(owner, `SELECT column_1, column_2 FROM ${plain} ORDER BY column_1`)).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);

    const latin = fresh('latin');
    await created(owner, new Blob([Buffer.from('name\ncaf\xe9\n', 'latin1')]), 'latin.csv', {
      name: latin,
      encoding: 'latin1',
    });
    expect(await rowsOf(owner, `SELECT name FROM ${latin}`)).toEqual([['café']]);

    const sheets = fresh('sheets');
    const { default: ExcelJS } = await import('exceljs');
    const book = new ExcelJS.Workbook();
    book.addWorksheet('first').addRow(['ignored']);
    const second = book.addWorksheet('second');
    second.addRow(['y', 'z']);
    second.addRow([1, 'a']);
    const workbook = new Blob([await book.xlsx.writeBuffer()]);
    await created(owner, workbook, 'book.xlsx', { name: sheets, sheet: 'second' });
    expect(await rowsOf(owner, `SELECT y, z FROM ${sheets}`)).toEqual([[1, 'a']]);

    const missing = fresh('sheets');
    const problem = await refusal(
      await owner.upload(workbook, 'book.xlsx', { name: missing, sheet: 'third' }),
      400,
      'no sheet named "third"',
    );
    expect(problem.detail).toContain('first, second');
    await nothingNamed(missing);
  });

  it('gives a dataset from a file with a header and no rows its columns, as text', async () => {
    const name = fresh('header_only');
    const upload = await created(owner, 'a,b\n', 'header.csv', { name });
    expect(upload.dataset).toMatchObject({
      row_count: 0,
      columns: [
        { name: 'a', original_name: 'a', type: 'text' },
        { name: 'b', original_name: 'b', type: 'text' },
      ],
    });
    expect(await rowsOf(owner, `SELECT a, b FROM ${name}`)).toEqual([]);
    expect((await jsonOf<DatasetView>(await owner.call(`${DATASETS}/${name}`))).row_count).toBe(0);
  });
});
