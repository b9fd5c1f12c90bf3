import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { load, refusal, typesOf } from './testing.ts';

async function workbook(): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  const sales = book.addWorksheet('Sales');
  sales.addRow(['Region', 'Units', 'Price', 'Shipped', 'Day', 'At', 'Note', 'Code']);
  sales.addRow([
    'North',
    12,
    2.5,
    true,
    new Date(Date.UTC(2024, 1, 29)),
    new Date(Date.UTC(2024, 1, 29, 13, 45, 7)),
    'plain',
    '007',
  ]);
  sales.addRow([
    { richText: [{ text: 'So' }, { text: 'uth', font: { bold: true } }] },
    { formula: 'B2*2', result: 24 },
    null,
    false,
    new Date(Date.UTC(1999, 11, 31)),
    new Date(Date.UTC(2000, 0, 1, 0, 0, 1)),
    { text: 'a link', hyperlink: 'https://example.com' },
    '12',
  ]);
  // An empty row is skipped; a row with gaps keeps its columns in place.
  sales.addRow([]);
  const sparse = sales.addRow([]);
  sparse.getCell(1).value = 'East';
  sparse.getCell(7).value = { error: '#N/A' };
  sparse.getCell(8).value = 'x1';
  for (const column of [5, 6]) sales.getColumn(column).numFmt = 'yyyy-mm-dd hh:mm:ss';
  const other = book.addWorksheet('Other');
  other.addRow(['Kind', 'Label']);
  other.addRow([1, 'Zoë 😀']);
  return Buffer.from(await book.xlsx.writeBuffer());
}

describe('Excel ingestion', () => {
  it('reads the first sheet: numbers, booleans, dates, rich text, formula results and links', async () => {
    const { result, columns, rows } = await load(await workbook(), { filename: 'sales.xlsx' });

    expect(result.format).toBe('xlsx');
    expect(typesOf(columns)).toEqual({
      region: 'text',
      units: 'integer',
      price: 'float',
      shipped: 'boolean',
      day: 'date',
      at: 'timestamp',
      note: 'text',
      code: 'text',
    });
    expect(rows).toEqual([
      ['North', '12', '2.5', 't', '2024-02-29', '2024-02-29T13:45:07.000Z', 'plain', '007'],
      ['South', '24', null, 'f', '1999-12-31', '2000-01-01T00:00:01.000Z', 'a link', '12'],
      ['East', null, null, null, null, null, null, 'x1'],
    ]);
  });

  it('reads a sheet named by the caller, and refuses a name the workbook lacks', async () => {
    const { columns, rows } = await load(await workbook(), { filename: 'sales.xlsx', sheet: 'Other' });
    expect(columns.map((c) => c.name)).toEqual(['kind', 'label']);
    expect(rows).toEqual([['1', 'Zoë 😀']]);

    const error = await refusal(await workbook(), { filename: 'sales.xlsx', sheet: 'Missing' });
    expect(error.message).toBe('No sheet to read: there is no sheet named "Missing" (sheets: Sales, Other)');
  });

  it('names the sheet row of a value that does not fit its column', async () => {
    const error = await refusal(await workbook(), {
      filename: 'sales.xlsx',
      columnTypes: { code: 'integer' },
    });
    expect(error.errors.map((e) => [e.line, e.column, e.value])).toEqual([
      [2, 'Code', '007'],
      [5, 'Code', 'x1'],
    ]);
  });

  it('refuses a file named .xlsx that is not a workbook', async () => {
    const error = await refusal('a,b\n1,2\n', { filename: 'sales.xlsx' });
    expect(error.kind).toBe('unsupported');
    expect(error.message).toBe('This is not an Excel .xlsx file');
  });

  it('refuses a zip that holds no workbook', async () => {
    const zip = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(200)]);
    const error = await refusal(zip, { filename: 'sales.xlsx' });
    expect(error.kind).toBe('unsupported');
  });
});
