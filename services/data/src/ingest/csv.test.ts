import { describe, expect, it } from 'vitest';
import { load, typesOf } from './testing.ts';

describe('CSV ingestion', () => {
  it('round-trips quoted fields with embedded newlines, delimiters and quotes, empty values, unicode, dates and codes', async () => {
    const csv = [
      'id,name,note,born,code,score',
      '1,"Smith, Jane","said ""hi""\non two lines",1990-04-01,007,1.5',
      '2,Zoë 😀,,2000-02-29,012,',
      '3,"  spaced  ","tab\there",1985-12-31,100,-2e3',
    ].join('\r\n');
    const { result, columns, rows } = await load(csv, { filename: 'people.csv' });

    expect(result.format).toBe('csv');
    expect(result.encoding).toBe('utf-8');
    expect(result.rowsWritten).toBe(3);
    expect(typesOf(columns)).toEqual({
      id: 'integer',
      name: 'text',
      note: 'text',
      born: 'date',
      code: 'text',
      score: 'float',
    });
    expect(rows).toEqual([
      ['1', 'Smith, Jane', 'said "hi"\non two lines', '1990-04-01', '007', '1.5'],
      ['2', 'Zoë 😀', null, '2000-02-29', '012', null],
      ['3', '  spaced  ', 'tab\there', '1985-12-31', '100', '-2e3'],
    ]);
  });

  it('detects a tab delimiter and a semicolon delimiter', async () => {
    const tsv = await load('a\tb\n1\tx,y\n2\tz;w\n', { filename: 'data.txt' });
    expect(tsv.columns.map((c) => c.name)).toEqual(['a', 'b']);
    expect(tsv.rows).toEqual([
      ['1', 'x,y'],
      ['2', 'z;w'],
    ]);

    const semicolons = await load('city;price\nParis;1,5\nLyon;2,25\n');
    expect(semicolons.rows).toEqual([
      ['Paris', '1,5'],
      ['Lyon', '2,25'],
    ]);
    expect(typesOf(semicolons.columns)).toEqual({ city: 'text', price: 'text' });
  });

  it('takes a first row of words as the header, even words that read as booleans or dates', async () => {
    const { columns } = await load('No,Name,2024-01-01,T\n1,Ann,5,x\n');
    expect(columns.map((c) => c.original_name)).toEqual(['No', 'Name', '2024-01-01', 'T']);
  });

  it('treats a first row with a number, or a code like 007, as data and names the columns itself', async () => {
    expect((await load('name,007\nAnn,008\n')).columns[0]!.name).toBe('column_1');
    const { columns, rows } = await load('1,2\n3,4\n');
    expect(columns).toEqual([
      { name: 'column_1', original_name: 'column_1', type: 'integer' },
      { name: 'column_2', original_name: 'column_2', type: 'integer' },
    ]);
    expect(rows).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
  });

  it('lets the caller say there is no header, or that there is one', async () => {
    const noHeader = await load('alpha,beta\ngamma,delta\n', { header: false });
    expect(noHeader.rows).toHaveLength(2);
    const header = await load('2023,2024\n1,2\n', { header: true });
    expect(header.columns.map((c) => [c.name, c.original_name])).toEqual([
      ['_2023', '2023'],
      ['_2024', '2024'],
    ]);
  });

  it('accepts a header with no rows as an empty dataset of text columns', async () => {
    const { result, columns } = await load('name,age\n');
    expect(result.rowsWritten).toBe(0);
    expect(typesOf(columns)).toEqual({ name: 'text', age: 'text' });
  });

  it('strips a UTF-8 byte-order mark', async () => {
    const { columns, result } = await load(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('name,n\nx,1\n')]),
    );
    expect(columns[0]!.original_name).toBe('name');
    expect(result.encoding).toBe('utf-8');
  });

  it('reads UTF-16 LE with a byte-order mark, and UTF-16 BE without one', async () => {
    const text = 'name,city\nZoë,Zürich 😀\n';
    const le = await load(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    expect(le.result.encoding).toBe('utf-16le');
    expect(le.rows).toEqual([['Zoë', 'Zürich 😀']]);

    const be = await load(Buffer.from(text, 'utf16le').swap16());
    expect(be.result.encoding).toBe('utf-16be');
    expect(be.rows).toEqual([['Zoë', 'Zürich 😀']]);
  });

  it('reads a file that is not valid UTF-8 from the start as Latin-1', async () => {
    const { result, rows } = await load(Buffer.from('name,city\nRené,Orléans\n', 'latin1'));
    expect(result.encoding).toBe('latin1');
    expect(rows).toEqual([['René', 'Orléans']]);
  });

  it('honours a given delimiter, quote and encoding', async () => {
    const { rows } = await load(Buffer.from("a|b\n'x|y'|é\n", 'latin1'), {
      delimiter: '|',
      quote: "'",
      encoding: 'latin1',
    });
    expect(rows).toEqual([['x|y', 'é']]);
  });

  it('escapes backslashes, tabs and line breaks for COPY and writes nulls as \\N', async () => {
    const { copyText } = await load('path,empty\n"C:\\temp\r\nnext",\n');
    expect(copyText).toBe('C:\\\\temp\\r\\nnext\t\\N\n');
  });

  it('skips blank lines but counts them in line numbers', async () => {
    const { rows } = await load('a,b\n\n1,2\n\n3,4\n');
    expect(rows).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
  });

  it('makes column names safe and unique, keeping the originals', async () => {
    const { columns } = await load('Order,Name,name,Café Owner,,_row_id,1st\n1,2,3,4,5,6,7\n', {
      header: true,
    });
    expect(columns.map((c) => [c.name, c.original_name])).toEqual([
      ['order_', 'Order'],
      ['name', 'Name'],
      ['name_2', 'name'],
      ['cafe_owner', 'Café Owner'],
      ['column_5', ''],
      ['row_id', '_row_id'],
      ['_1st', '1st'],
    ]);
  });
});
