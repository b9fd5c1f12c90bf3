import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIE, parquet, python, removeFiles, WORKBOOK } from './files.fixtures.ts';
import { bearer, expectProblem, startStack, type Stack } from './stack.ts';

/**
 * Hostile uploads, sent through the gateway as any editor could: oversized values and headers,
 * broken text, deep JSON, Parquet and Excel bombs, zips with entries that point elsewhere, odd file
 * names and content types. Each refusal is a 4xx problem+json naming the limit or the place, never
 * a 5xx or a dead process, and leaves the dataset list and the data directory as they were.
 * The bombs are built here, with python3's zipfile and DuckDB, as an attacker would build them.
 */

const MIB = 1024 * 1024;
const MAX_UPLOAD_BYTES = 128 * MIB;
interface Hostile {
  what: string;
  file: () => Promise<Buffer> | Buffer;
  filename: string;
  fields?: Record<string, string>;
  status: number;
  detail: RegExp;
}

const CORPUS: Hostile[] = [
  {
    what: 'a CSV with one 100 MB field',
    file: () =>
      Buffer.concat([Buffer.from('a,b\n1,"'), Buffer.alloc(100 * 1000 * 1000, 'x'), Buffer.from('"\n')]),
    filename: 'huge-field.csv',
    // Refused by the record length (64 × DATA_MAX_CELL_BYTES characters) before the cell is whole.
    status: 400,
    detail: /^Line 2: the row starting on this line is longer than \d+ characters/,
  },
  {
    what: 'a CSV header of a million columns',
    file: () => Buffer.from(`${Array.from({ length: 1_000_000 }, (_, i) => `c${i}`).join(',')}\n`),
    filename: 'wide.csv',
    status: 413,
    detail: /Line 1: the file has \d+ columns; at most 2000/,
  },
  {
    what: 'invalid UTF-8 declared as UTF-8',
    file: () => Buffer.concat([Buffer.from('a,b\n1,'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('\n')]),
    filename: 'bad-utf8.csv',
    fields: { encoding: 'utf-8' },
    status: 400,
    detail: /line 2/i,
  },
  {
    what: 'NUL bytes in a value',
    file: () => Buffer.from('a,b\n1,x\u0000y\n'),
    filename: 'nul.csv',
    status: 400,
    detail: /This is not a text file/,
  },
  {
    what: 'NUL bytes in the header',
    file: () => Buffer.from('a\u0000,b\n1,2\n'),
    filename: 'nul-header.csv',
    status: 400,
    detail: /This is not a text file/,
  },
  {
    what: 'a quote that never closes',
    file: () => Buffer.from('a,b\n1,"open\n2,3\n'),
    filename: 'quotes.csv',
    status: 400,
    detail: /[Ll]ine 2/,
  },
  {
    what: 'JSON nested a million deep',
    file: () => Buffer.from(`[${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}]`),
    filename: 'deep.json',
    status: 400,
    detail: /Line 1: the value is nested deeper than 512 levels/,
  },
  {
    what: 'JSON objects nested a hundred thousand deep',
    file: () => Buffer.from(`[{"a":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}]`),
    filename: 'deep-objects.json',
    status: 400,
    detail: /Line 1: the value is nested deeper than 512 levels/,
  },
  {
    what: 'a Parquet row group declaring 40 million values in a few kilobytes',
    file: () => parquet("SELECT 'same' AS s FROM range(40000000)", 'rows.parquet'),
    filename: 'rows.parquet',
    status: 413,
    detail: /row group 1 would take more than .*\(DATA_MAX_ROW_GROUP_BYTES\)/,
  },
  {
    what: 'an xlsx whose shared strings unpack to 200 MB from 200 kB',
    file: () => python(`${WORKBOOK}\nworkbook(sys.argv[1], SST % ('x' * 200_000_000))`, 'sst.xlsx'),
    filename: 'sst.xlsx',
    status: 413,
    detail: /"xl\/sharedStrings.xml" .*\(DATA_MAX_(SHARED_STRINGS_BYTES|ZIP_RATIO)\)/,
  },
  {
    what: 'an xlsx whose shared strings declare 1 kB and unpack to 50 MB',
    file: () =>
      python(
        `${WORKBOOK}${LIE}\nworkbook(sys.argv[1], SST % ('x' * 50_000_000))\nlie(sys.argv[1], 'xl/sharedStrings.xml', 1000)`,
        'lie.xlsx',
      ),
    filename: 'lie.xlsx',
    status: 413,
    detail: /"xl\/sharedStrings.xml" unpacks to more than the 1000 bytes it declares/,
  },
  {
    what: 'an xlsx of a hundred thousand entries',
    file: () =>
      python(
        `${WORKBOOK}\nworkbook(sys.argv[1], SST % 'x', [(f'x/{i}', '') for i in range(100_000)])`,
        'many.xlsx',
      ),
    filename: 'many.xlsx',
    status: 413,
    // Past 65,535 entries the count is a zip64 field; the plain one says 65535.
    detail: /holds 65535 zip entries; at most 1000 .*\(DATA_MAX_ZIP_ENTRIES\)/,
  },
  {
    what: 'an xlsx with an entry named ../../',
    file: () => python(`${WORKBOOK}\nworkbook(sys.argv[1], SST % 'x', [('../../evil.sh', 'x')])`, 'up.xlsx'),
    filename: 'up.xlsx',
    status: 400,
    detail: /"..\/..\/evil.sh" is named to point outside the workbook/,
  },
  {
    what: 'an xlsx with an absolute entry name',
    file: () => python(`${WORKBOOK}\nworkbook(sys.argv[1], SST % 'x', [('/tmp/evil.sh', 'x')])`, 'abs.xlsx'),
    filename: 'abs.xlsx',
    status: 400,
    detail: /"\/tmp\/evil.sh" is named to point outside the workbook/,
  },
  {
    what: 'an xlsx with a symbolic link',
    file: () =>
      python(
        `${WORKBOOK}\nimport zipfile\nworkbook(sys.argv[1], SST % 'x')\nz = zipfile.ZipFile(sys.argv[1], 'a')\ni = zipfile.ZipInfo('xl/media/link')\ni.create_system = 3\ni.external_attr = 0o120777 << 16\nz.writestr(i, '/etc/passwd')\nz.close()`,
        'link.xlsx',
      ),
    filename: 'link.xlsx',
    status: 400,
    detail: /"xl\/media\/link" is a symbolic link/,
  },
  {
    what: 'an empty file',
    file: () => Buffer.alloc(0),
    filename: 'empty.csv',
    status: 400,
    detail: /The file is empty/,
  },
  {
    what: 'a file larger than DATA_MAX_UPLOAD_BYTES',
    file: () => Buffer.concat([Buffer.from('a\n'), Buffer.alloc(MAX_UPLOAD_BYTES, '1\n')]),
    filename: 'big.csv',
    status: 413,
    detail: /larger than the 134217728 bytes allowed \(DATA_MAX_UPLOAD_BYTES\)/,
  },
];

describe('hostile files: every refusal names the limit or the place, and leaves nothing behind', () => {
  let stack: Stack;
  let editor: string;
  let admin: string;

  beforeAll(async () => {
    stack = await startStack({ DATA_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) });
    editor = (await stack.signedIn('editor')).token;
    admin = (await stack.signedIn('admin')).token;
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
    await removeFiles();
  });

  const upload = (file: Buffer, filename: string, fields: Record<string, string> = {}, type = 'text/csv') => {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append('file', new Blob([file], { type }), filename);
    return fetch(`${stack.url}/api/v1/data/datasets`, {
      method: 'POST',
      headers: bearer(editor),
      body: form,
    });
  };

  /** What a refused upload must leave as it was: every dataset, and every file under the data directory. */
  async function state(): Promise<{ datasets: unknown; files: string[] }> {
    const listed = await fetch(`${stack.url}/api/v1/data/datasets?limit=100`, { headers: bearer(admin) });
    const files = await readdir(stack.dataDir, { recursive: true });
    return { datasets: await listed.json(), files: files.sort() };
  }

  it.each(CORPUS)(
    'refuses $what with $status',
    async ({ file, filename, fields, status, detail }) => {
      const before = await state();
      const problem = await expectProblem(await upload(await file(), filename, fields), status);
      expect(problem.detail).toMatch(detail);
      stack.assertAlive();
      expect(await state()).toEqual(before);
    },
    120_000,
  );

  it('refuses a body that is not multipart, whatever its Content-Type says', async () => {
    for (const type of ['application/json', 'text/csv', 'application/octet-stream']) {
      const response = await fetch(`${stack.url}/api/v1/data/datasets`, {
        method: 'POST',
        headers: { ...bearer(editor), 'content-type': type },
        body: 'a,b\n1,2\n',
      });
      expect([400, 415]).toContain(response.status);
      expect((await expectProblem(response, response.status)).detail).toMatch(
        /multipart\/form-data|not valid JSON|Media Type/,
      );
    }
    stack.assertAlive();
  });

  it('reads a file by its content, not the part’s Content-Type, and names it from a sanitized file name', async () => {
    // The file name only names the dataset: it never reaches the file system.
    const cases: [string, string][] = [
      // busboy keeps only the last path segment.
      ['../../../../tmp/escape.csv', 'escape'],
      ['/etc/passwd.csv', 'passwd'],
      ['a\u0001b\u0007c.csv', 'a_b_c'],
    ];
    for (const [filename, name] of cases) {
      const response = await upload(Buffer.from('a,b\n1,2\n'), filename, {}, 'image/png');
      expect(response.status, await response.clone().text()).toBe(201);
      expect(((await response.json()) as { dataset: { name: string } }).dataset.name).toBe(name);
    }
    await expect(readFile('/tmp/escape.csv')).rejects.toThrow();
  });

  it('loads BOM variants with clean column names', async () => {
    const text = 'name,n\nzoë,1\n';
    const boms: [string, Buffer][] = [
      ['utf-8', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])],
      ['utf-16le', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])],
      ['utf-16be', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()])],
    ];
    for (const [encoding, bytes] of boms) {
      const response = await upload(bytes, `bom_${encoding.replace('-', '')}.csv`);
      expect(response.status, await response.clone().text()).toBe(201);
      const { dataset } = (await response.json()) as { dataset: { columns: { name: string }[] } };
      expect(dataset.columns.map((column) => column.name)).toEqual(['name', 'n']);
    }
  });

  it('keeps formula-like values as the text they are, and hands them back unchanged', async () => {
    // DataLab stores values verbatim and evaluates none; a spreadsheet that opens an export does.
    const values = ['=HYPERLINK("http://evil.example","x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1'];
    const csv = `v\n${values.map((value) => `"${value.replaceAll('"', '""')}"`).join('\n')}\n`;
    const response = await upload(Buffer.from(csv), 'formulas.csv', { name: 'formulas' });
    expect(response.status, await response.clone().text()).toBe(201);
    const rows = await fetch(`${stack.url}/api/v1/data/datasets/formulas/rows?limit=10`, {
      headers: bearer(editor),
    });
    const body = (await rows.json()) as { rows: unknown[][] };
    expect(body.rows.map((row) => row.at(-1))).toEqual(values);
  });
});
