import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { load, refusal } from './testing.ts';

/** A CSV of `rows` rows produced as it is read, never held whole: row `badRow` has a word where a number belongs. */
function generatedCsv(rows: number, badRow: number): Readable {
  let row = 0;
  return new Readable({
    read() {
      let chunk = row === 0 ? 'id,amount,label\n' : '';
      for (let i = 0; i < 1000 && row < rows; i++) {
        row++;
        chunk += `${row},${row === badRow ? 'abc' : row * 3},item ${row}\n`;
      }
      this.push(chunk);
      if (row >= rows) this.push(null);
    },
  });
}

describe('a file that cannot be loaded', () => {
  it('names the line where an unbalanced quote opens', async () => {
    const error = await refusal('a,b\n1,2\n3,"four\n5,6\n7,8\n');
    expect(error.kind).toBe('invalid');
    expect(error.errors).toEqual([
      { line: 3, message: 'a quoted field starts on this line and is never closed' },
    ]);
    expect(error.message).toContain('Line 3');
  });

  it('names a ragged row, counting lines inside quoted fields', async () => {
    const error = await refusal('a,b\n"x\ny",2\n3,4,5\n');
    expect(error.errors).toEqual([{ line: 4, message: 'the row has 3 fields; the header has 2' }]);
  });

  it('refuses an endless file whose every row is ragged after its first errors, without reading on', async () => {
    let rows = 0;
    const endless = new Readable({
      read() {
        this.push(rows++ === 0 ? 'a,b,c\n' : '1,2\n'.repeat(1000));
      },
    });
    const error = await refusal(endless);
    expect(error.errors).toHaveLength(20);
    expect(error.errors[0]).toEqual({ line: 2, message: 'the row has 2 fields; the header has 3' });
    expect(rows).toBeLessThan(100);
  });

  it('names line, column, value and expected type of a wrong value in row 50,000 of a streamed file', async () => {
    const error = await refusal(generatedCsv(60_000, 50_000), { filename: 'big.csv' });
    expect(error.kind).toBe('invalid');
    expect(error.errors).toEqual([
      {
        line: 50_001,
        column: 'amount',
        value: 'abc',
        expected: 'integer',
        message: 'expected integer, got "abc"',
      },
    ]);
    expect(error.message).toContain('line 50001, column "amount"');
  });

  it('refuses an empty file', async () => {
    const error = await refusal('');
    expect(error.kind).toBe('invalid');
    expect(error.message).toBe('The file is empty');
  });

  it('refuses a binary file named .csv as unsupported, creating nothing', async () => {
    const png = Buffer.concat([
      Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
      Buffer.alloc(64),
      Buffer.from([1, 2, 3, 255]),
    ]);
    const error = await refusal(png, { filename: 'photo.csv' });
    expect(error.kind).toBe('unsupported');
    expect(error.message).toContain('not a text file');
    expect(error.tableCreated).toBe(false);
  });

  it('refuses a header of 20,000 columns from the header line, without reading on', async () => {
    let bytesRead = 0;
    const header = `${Array.from({ length: 20_000 }, (_, i) => `column number ${i}`).join(',')}\n`;
    const row = `${Array.from({ length: 20_000 }, () => '1').join(',')}\n`;
    // Endless rows after the header: the refusal must come from the header alone.
    const endless = new Readable({
      read() {
        const chunk = bytesRead === 0 ? header : row;
        bytesRead += chunk.length;
        this.push(chunk);
      },
    });
    const started = Date.now();
    const error = await refusal(endless);
    expect(error.kind).toBe('too_large');
    expect(error.message).toBe('Line 1: the file has 20000 columns; at most 2000 are allowed');
    expect(bytesRead).toBeLessThan(header.length + 1024 * 1024);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('names the line and column of a value over the cell size limit', async () => {
    const error = await refusal(`a,b\n1,short\n2,${'x'.repeat(100)}\n`, { limits: { maxCellBytes: 64 } });
    expect(error.errors).toEqual([
      {
        line: 3,
        column: 'b',
        value: 'x'.repeat(100),
        expected: 'text',
        message: 'the value is larger than 64 bytes',
      },
    ]);
  });

  it('names the line of invalid UTF-8 that follows a valid start', async () => {
    const start = `name,n\n${'ascii,1\n'.repeat(10_000)}`;
    const bad = Buffer.concat([
      Buffer.from(start),
      Buffer.from('caf'),
      Buffer.from([0xe9]),
      Buffer.from(',2\nok,3\n'),
    ]);
    const error = await refusal(bad, { filename: 'names.csv' });
    expect(error.kind).toBe('invalid');
    expect(error.errors[0]!.line).toBe(10_002);
    expect(error.message).toContain('not valid UTF-8');
  });

  it('makes rows that do not fit an overriding type errors', async () => {
    const error = await refusal('code,n\n12,1\nAB1,2\n', { columnTypes: { code: 'integer' } });
    expect(error.errors.map((e) => [e.line, e.column, e.value])).toEqual([[3, 'code', 'AB1']]);
    expect(error.tableCreated).toBe(false);
  });

  it('refuses types for columns the file does not have', async () => {
    const error = await refusal('a,b\n1,2\n', { columnTypes: { c: 'integer' } });
    expect(error.message).toContain('columns the file does not have: c');
  });

  it('lists at most maxErrorsReported errors and stops reading there', async () => {
    const rows = Array.from({ length: 100 }, (_, i) => `${i},${i < 10 ? i : 'x'}`).join('\n');
    const error = await refusal(`a,b\n1,2\n${rows}\n`, { limits: { maxErrorsReported: 3, sampleRows: 10 } });
    expect(error.errors.map((e) => e.line)).toEqual([13, 14, 15]);
    expect(error.message).toMatch(
      /^at least 3 rows of the file cannot be loaded; the first, line 13, column "b"/,
    );
  });

  it('accepts the same file when bad rows may be skipped', async () => {
    const { result } = await load('a,b\n1,2\n3,x\n', { onError: 'skip', limits: { sampleRows: 1 } });
    expect(result.rowsWritten).toBe(1);
    expect(result.rowsRejected).toBe(1);
  });
});
