import { describe, expect, it } from 'vitest';
import {
  DATASETS,
  contractSuite,
  created,
  fresh,
  jsonOf,
  listedNames,
  refusal,
  rowsOf,
  uploadForm,
} from './http.contract-fixtures.ts';

/** Small limits, so each is quick to reach. */
const MAX_UPLOAD_BYTES = 16_384;
const MAX_COLUMNS = 20;
const MAX_CELL_BYTES = 1000;

describe('refused uploads: bad options, bad rows naming line and column, on_error=skip, limits', () => {
  const { stack, owner, stranger, viewer, admin } = contractSuite(
    { owner: 'editor', stranger: 'editor', viewer: 'viewer', admin: 'admin' },
    {
      DATA_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
      DATA_MAX_COLUMNS: String(MAX_COLUMNS),
      DATA_MAX_CELL_BYTES: String(MAX_CELL_BYTES),
    },
  );

  /** A refused upload leaves no dataset of that name, for its owner or anyone. */
  async function nothingNamed(name: string): Promise<void> {
    await refusal(await owner.call(`${DATASETS}/${name}`), 404, 'Dataset not found');
    expect(await listedNames(admin, name)).toEqual([]);
  }

  /** A value over the cell limit is the caller's mistake (400) or a limit (413); either names it. */
  async function expectCellRefusal(response: Response) {
    expect([400, 413]).toContain(response.status);
    return refusal(response, response.status, 'larger than');
  }

  it('refuses an upload that is not right, naming the field, and creates nothing', async () => {
    const name = fresh('refused');
    const taken = (await created(owner, 'x\n1\n', 'x.csv', { name: fresh('taken') })).dataset.name;
    const noFile = new FormData();
    noFile.append('name', name);
    const cases: [string, () => Promise<Response>, number, string, string | undefined][] = [
      ['a JSON body', () => owner.send('POST', DATASETS, { name }), 400, 'multipart/form-data', 'file'],
      ['no file', () => owner.call(DATASETS, { method: 'POST', body: noFile }), 400, 'No file', 'file'],
      [
        'a name that is not an identifier',
        () => owner.upload('x\n1\n', 'x.csv', { name: '1abc' }),
        400,
        'SQL identifier',
        'name',
      ],
      [
        'an unknown visibility',
        () => owner.upload('x\n1\n', 'x.csv', { name, visibility: 'public' }),
        400,
        'visibility',
        'visibility',
      ],
      [
        'an unknown on_error',
        () => owner.upload('x\n1\n', 'x.csv', { name, on_error: 'maybe' }),
        400,
        'on_error',
        'on_error',
      ],
      [
        'an unknown format',
        () => owner.upload('x\n1\n', 'x.csv', { name, format: 'xml' }),
        400,
        'format',
        'format',
      ],
      [
        'a type nobody knows',
        () => owner.upload('x\n1\n', 'x.csv', { name, types: '{"x":"money"}' }),
        400,
        'x',
        'types.x',
      ],
      [
        'types that are not JSON',
        () => owner.upload('x\n1\n', 'x.csv', { name, types: 'nope' }),
        400,
        'types',
        'types',
      ],
      [
        'a name in use',
        () => owner.upload('x\n1\n', 'x.csv', { name: taken }),
        409,
        `"${taken}" exists already`,
        undefined,
      ],
      ['a viewer', () => viewer.upload('x\n1\n', 'x.csv', { name }), 403, 'Viewers', undefined],
      [
        'nobody signed in',
        () =>
          fetch(`${stack.url}${DATASETS}`, { method: 'POST', body: uploadForm('x\n1\n', 'x.csv', { name }) }),
        401,
        'Authentication required',
        undefined,
      ],
    ];
    for (const [label, sent, status, detail, field] of cases) {
      const problem = await refusal(await sent(), status, detail).catch((error: Error) => {
        throw new Error(`${label}: ${error.message}`);
      });
      if (field) expect(problem.errors, label).toContainEqual(expect.objectContaining({ field }));
    }
    await nothingNamed(name);
  });

  it('refuses a file with bad rows, naming each line and column, and creates nothing', async () => {
    const name = fresh('bad_rows');
    const response = await owner.upload('id,amount\n1,10\n2,ten\n3,30\n4,forty\n', 'bad.csv', {
      name,
      types: JSON.stringify({ amount: 'integer' }),
    });
    const problem = await refusal(response, 400, 'line 3, column "amount"');
    expect(problem.detail).toContain('2 rows');
    expect(problem.errors).toEqual([
      { field: 'line 3, column amount', message: expect.stringContaining('"ten"') as unknown },
      { field: 'line 5, column amount', message: expect.stringContaining('"forty"') as unknown },
    ]);
    await nothingNamed(name);
  });

  it.each([
    [
      'a CSV row with too few fields',
      'short.csv',
      'a,b\n1,2\n3\n',
      'line 3',
      'the row has 1 fields; the header has 2',
    ],
    ['a CSV row with too many fields', 'long.csv', 'a,b\n1,2\n3,4,5\n', 'line 3', 'the row has 3 fields'],
    ['broken NDJSON', 'broken.ndjson', '{"a":1}\n{"a":2\n{"a":3}\n', 'line 2', 'not valid JSON'],
    ['a JSON array that never ends', 'open.json', '[{"a":1},\n{"a":2},\n', 'line 3', 'JSON array'],
  ])('refuses %s naming the line, and creates nothing', async (_label, file, content, line, detail) => {
    const name = fresh('broken');
    const problem = await refusal(await owner.upload(content, file, { name }), 400, detail);
    expect(problem.detail?.toLowerCase()).toContain(line);
    expect(problem.errors).toContainEqual(expect.objectContaining({ field: line }));
    await nothingNamed(name);
  });

  it('loads the good rows with on_error=skip and offers the bad ones as a CSV download', async () => {
    const name = fresh('skipping');
    const upload = await created(owner, 'id,amount\n1,10\n2,ten\n3,30\n4,1,2\n', 'skip.csv', {
      name,
      types: JSON.stringify({ amount: 'integer' }),
      on_error: 'skip',
    });
    expect(upload).toMatchObject({
      dataset: { name, row_count: 2, version: 1 },
      rows_written: 2,
      rejects: {
        count: 2,
        first: [
          {
            line: 3,
            column: 'amount',
            value: 'ten',
            expected: 'integer',
            message: 'expected integer, got "ten"',
          },
          { line: 5, message: 'the row has 3 fields; the header has 2' },
        ],
        download: expect.stringMatching(
          new RegExp(`^${DATASETS}/${upload.dataset.id}/rejects/[0-9a-f-]{36}$`),
        ) as unknown,
      },
    });
    expect(await rowsOf(owner, `SELECT id, amount FROM ${name} ORDER BY id`)).toEqual([
      [1, 10],
      [3, 30],
    ]);
    const versions = await jsonOf<{ versions: { rows_written: number; rows_rejected: number }[] }>(
      await owner.call(`${DATASETS}/${name}/versions`),
    );
    expect(versions.versions).toMatchObject([{ rows_written: 2, rows_rejected: 2 }]);

    const download = await owner.call(upload.rejects.download!);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="rejects.csv"');
    expect(await download.text()).toBe(
      [
        'line,column,value,expected,message,row',
        '3,amount,ten,integer,"expected integer, got ""ten""","2,ten"',
        '5,,,,the row has 3 fields; the header has 2,"4,1,2"',
        '',
      ].join('\n'),
    );
  });

  it('answers 404 for rejects of a dataset the caller may not read, or that never existed, and 400 for a bad id', async () => {
    const name = fresh('skipped');
    const upload = await created(owner, 'n\n1\nx\n', 'n.csv', {
      name,
      types: JSON.stringify({ n: 'integer' }),
      on_error: 'skip',
    });
    await refusal(await stranger.call(upload.rejects.download!), 404, 'Dataset not found');
    await refusal(
      await owner.call(`${DATASETS}/${name}/rejects/00000000-0000-4000-8000-000000000000`),
      404,
      'Rejects report not found',
    );
    const problem = await refusal(await owner.call(`${DATASETS}/${name}/rejects/latest`), 400, 'rejectsId');
    expect(problem.errors).toContainEqual(expect.objectContaining({ field: '/params/rejectsId' }));
  });

  it.each([
    ['an empty file', 'empty.csv', () => '', 'The file is empty'],
    [
      'a binary file',
      'data.bin',
      () => new Blob([new Uint8Array([0, 1, 2, 255, 254, 0, 7])]),
      'not a text file',
    ],
    ['a broken Parquet file', 'broken.parquet', () => 'PAR1 not really PAR1', 'not a readable Parquet file'],
    ['a broken Excel file', 'broken.xlsx', () => 'not a zip', 'not an Excel .xlsx file'],
  ])('refuses %s with a 400 saying why, and creates nothing', async (_label, file, make, detail) => {
    const name = fresh('unreadable');
    await refusal(await owner.upload(make(), file, { name }), 400, detail);
    await nothingNamed(name);
  });

  it('refuses a file wider than DATA_MAX_COLUMNS with 413 naming the limit', async () => {
    const name = fresh('wide');
    const header = Array.from({ length: MAX_COLUMNS + 1 }, (_, i) => `c${i}`).join(',');
    const row = Array.from({ length: MAX_COLUMNS + 1 }, () => '1').join(',');
    const problem = await refusal(
      await owner.upload(`${header}\n${row}\n`, 'wide.csv', { name }),
      413,
      `at most ${MAX_COLUMNS}`,
    );
    expect(problem.detail).toContain(`${MAX_COLUMNS + 1} columns`);
    await nothingNamed(name);
  });

  it('refuses a value larger than DATA_MAX_CELL_BYTES naming the limit, the line and the column', async () => {
    const name = fresh('big_cell');
    const problem = await expectCellRefusal(
      await owner.upload(`a,b\n1,ok\n2,${'x'.repeat(MAX_CELL_BYTES + 1)}\n`, 'cell.csv', { name }),
    );
    expect(problem.detail).toContain(`${MAX_CELL_BYTES} bytes`);
    expect(problem.errors).toContainEqual(expect.objectContaining({ field: 'line 3, column b' }));
    await nothingNamed(name);
  });

  // The whole file fits in the first chunk busboy hands on, so the limit is passed before any listener is there.
  it('refuses a file larger than DATA_MAX_UPLOAD_BYTES with 413 naming the limit, and creates nothing', async () => {
    const name = fresh('too_big');
    const response = await owner.upload(`n\n${'1\n'.repeat(MAX_UPLOAD_BYTES)}`, 'big.csv', { name });
    await refusal(response, 413, `${MAX_UPLOAD_BYTES} bytes`);
    await nothingNamed(name);
  });
});
