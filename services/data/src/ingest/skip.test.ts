import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { parseCopy, load } from './testing.ts';

describe("on_error 'skip'", () => {
  const csv = [
    'id,amount,note',
    '1,10,ok',
    '2,20,two',
    '3,x,"bad, amount"',
    '4,40',
    '5,5.5,float',
    '6,60,last',
  ].join('\n');

  it('writes the rows that fit and reports how many were left out, with the first ones in full', async () => {
    const { result, rows } = await load(csv, {
      onError: 'skip',
      limits: { sampleRows: 2, maxErrorsReported: 2 },
    });

    expect(rows).toEqual([
      ['1', '10', 'ok'],
      ['2', '20', 'two'],
      ['6', '60', 'last'],
    ]);
    expect(result.rowsWritten).toBe(3);
    expect(result.rowsRejected).toBe(3);
    expect(result.rejects).toEqual([
      { line: 4, column: 'amount', value: 'x', expected: 'integer', message: 'expected integer, got "x"' },
      { line: 5, message: 'the row has 2 fields; the header has 3' },
    ]);
  });

  it('produces a rejects CSV of every refused row, with the row itself to fix', async () => {
    const { result } = await load(csv, { onError: 'skip', limits: { sampleRows: 2, maxErrorsReported: 2 } });
    expect(parse(result.rejectsCsv)).toEqual([
      ['line', 'column', 'value', 'expected', 'message', 'row'],
      ['4', 'amount', 'x', 'integer', 'expected integer, got "x"', '3,x,"bad, amount"'],
      ['5', '', '', '', 'the row has 2 fields; the header has 3', '4,40'],
      ['6', 'amount', '5.5', 'integer', 'expected integer, got "5.5"', '5,5.5,float'],
    ]);
  });

  it('writes an empty table when every row is refused', async () => {
    const { result, copyText } = await load('n\n1\nx\ny\n', { onError: 'skip', limits: { sampleRows: 1 } });
    expect(parseCopy(copyText)).toEqual([['1']]);
    expect(result.rowsRejected).toBe(2);
  });
});
