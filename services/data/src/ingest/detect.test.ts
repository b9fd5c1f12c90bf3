import { describe, expect, it } from 'vitest';
import { detect, detectDelimiter, detectEncoding, looksBinary } from './detect.ts';

describe('format and encoding detection', () => {
  it('goes by the extension first, then by the content', () => {
    const text = Buffer.from('a,b\n1,2\n');
    expect(detect(text, { filename: 'x.tsv' }).format).toBe('csv');
    expect(detect(Buffer.from('{"a":1}\n'), { filename: 'x.jsonl' }).format).toBe('ndjson');
    expect(detect(Buffer.from(' [{"a":1}]'), {}).format).toBe('json');
    expect(detect(text, { filename: 'README' }).format).toBe('csv');
    expect(detect(text, { format: 'csv', filename: 'x.json' }).format).toBe('csv');
  });

  it('refuses old .xls workbooks and unknown binary content', () => {
    expect(() => detect(Buffer.from([0xd0, 0xcf, 0x11, 0xe0]), { filename: 'old.xls' })).toThrow(
      /save the sheet as \.xlsx/,
    );
    expect(() => detect(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0]), { filename: 'tool' })).toThrow(
      /not a text file/,
    );
  });

  it('calls mostly control characters binary, and ordinary text not', () => {
    expect(looksBinary(Buffer.from(Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? 0x01 : 0x41))))).toBe(
      true,
    );
    expect(looksBinary(Buffer.from('a\tb\r\nc\fd\n'))).toBe(false);
  });

  it('knows UTF-16 by its NUL bytes when there is no byte-order mark, and Latin-1 by invalid UTF-8', () => {
    expect(detectEncoding(Buffer.from('name,city\n', 'utf16le'))).toEqual({ encoding: 'utf-16le', bom: 0 });
    expect(detectEncoding(Buffer.from('name,city\n', 'utf16le').swap16())).toEqual({
      encoding: 'utf-16be',
      bom: 0,
    });
    expect(detectEncoding(Buffer.from('café au lait', 'latin1'))).toEqual({ encoding: 'latin1', bom: 0 });
    // A character cut off at the end of the head is no reason to doubt UTF-8, unless the file ends there.
    expect(detectEncoding(Buffer.from('café').subarray(0, 4))).toEqual({ encoding: 'utf-8', bom: 0 });
    expect(detectEncoding(Buffer.from('café', 'latin1'), true)).toEqual({ encoding: 'latin1', bom: 0 });
  });

  it('picks the delimiter that splits every line the same way, ignoring quoted ones', () => {
    expect(detectDelimiter('a|b|c\n1|2|3\n', '"')).toBe('|');
    expect(detectDelimiter('a;b\n"x,y,z";1\n"p,q";2\n', '"')).toBe(';');
    expect(detectDelimiter('one column\nonly\n', '"')).toBe(',');
    expect(detectDelimiter('a\tb,c\n1\t2,3\n4\t5\n', '"')).toBe('\t');
  });
});
