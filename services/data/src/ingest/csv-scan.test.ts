import { describe, expect, it } from 'vitest';
import type { ColumnType } from '../datasets/datasets.types.ts';
import { csvScanner } from './csv-scan.ts';
import { rowEncoder } from './encode.ts';
import { LIMITS } from './testing.ts';

const TYPES: ColumnType[] = ['text', 'integer', 'float', 'boolean', 'date', 'timestamp', 'text'];

/** Records the scanner passes as they are, records it writes anew, a blank line, quoted line breaks. */
const CSV = [
  'code,n,price,ok,day,at,note',
  '007,+5,1.50,Yes,2024-02-29,2024-03-01T10:00:05Z,"quoted, with comma"',
  '010, 42 ,-0.25,no,2024-01-01,2024-03-01 10:00,   ',
  'A1,-0,1e3,TRUE,2024-12-31,2024-03-01T10:00:00.123+05:30,"multi',
  'line ""quoted"""',
  '',
  '"",18,.5,f,"2020-01-01",2024-03-01,5" screen',
  'Zürich ☕,,3.,F,,2024-03-01t10:00:00z,last',
  '',
].join('\n');

function scan(chunks: Buffer[]) {
  const columns = TYPES.map((type, i) => ({ name: `c${i}`, original_name: `c${i}`, type }));
  const rejects: unknown[] = [];
  const scanner = csvScanner({
    delimiter: ','.charCodeAt(0),
    quote: '"'.charCodeAt(0),
    types: TYPES,
    header: true,
    maxCellBytes: LIMITS.maxCellBytes,
    maxRecordChars: 10_000,
    encode: rowEncoder(columns, LIMITS.maxCellBytes, true),
    onReject: (reject) => rejects.push(reject),
  });
  const sent = [...chunks.flatMap((chunk) => scanner.push(chunk)), ...scanner.end()];
  return {
    text: Buffer.concat(sent).toString('utf8'),
    rows: scanner.rows,
    lines: [1, 2, 3, 4, 5].map((line) => scanner.fileLine(line)),
    rejects,
  };
}

describe('the CSV fast path scanner', () => {
  const bytes = Buffer.from(CSV);
  const whole = scan([bytes]);

  it('hands on records as they are where PostgreSQL reads them alike, and rewrites the others', () => {
    expect(whole.rows).toBe(5);
    expect(whole.rejects).toEqual([]);
    expect(whole.text.split('\n')).toEqual([
      '007,+5,1.50,Yes,2024-02-29,2024-03-01T10:00:05Z,"quoted, with comma"',
      '"010","42","-0.25","f","2024-01-01","2024-03-01T10:00:00Z",',
      '"A1","0","1e3","t","2024-12-31","2024-03-01T10:00:00.123+05:30","multi',
      'line ""quoted"""',
      ',"18",".5","f","2020-01-01","2024-03-01T00:00:00Z","5"" screen"',
      '"Zürich ☕",,"3.","f",,"2024-03-01T10:00:00Z","last"',
      '',
    ]);
    // The header and the blank line are left out: sent line 5 is file line 7.
    expect(whole.lines).toEqual([2, 3, 4, 5, 7]);
  });

  it('gives the same bytes, rows and lines wherever the upload is cut into chunks', () => {
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(scan([bytes.subarray(0, cut), bytes.subarray(cut)]), `cut at byte ${cut}`).toEqual(whole);
    }
    const single = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    expect(scan(single)).toEqual(whole);
  });
});
