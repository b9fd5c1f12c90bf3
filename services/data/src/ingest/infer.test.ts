import { describe, expect, it } from 'vitest';
import type { ColumnType } from '../datasets/datasets.types.ts';
import { inferTypes } from './infer.ts';
import { copyText } from './values.ts';

/** The type inferred for one column of text values. */
const typeOf = (...values: (string | null)[]): ColumnType =>
  inferTypes(
    values.map((value) => [value]),
    1,
    true,
  )[0]!;

describe('type inference', () => {
  it('finds integers, but keeps leading-zero codes and numbers beyond int64 as text', () => {
    expect(typeOf('1', '-42', '+7', '0')).toBe('integer');
    expect(typeOf('007', '12')).toBe('text');
    expect(typeOf('9223372036854775807', '-9223372036854775808')).toBe('integer');
    expect(typeOf('9223372036854775808')).toBe('text');
  });

  it('widens integers to floats, and keeps NaN, Infinity and thousands separators as text', () => {
    expect(typeOf('1', '2.5', '-3e-2', '.5', '0.0')).toBe('float');
    expect(typeOf('NaN')).toBe('text');
    expect(typeOf('Infinity')).toBe('text');
    expect(typeOf('1e999')).toBe('text');
    expect(typeOf('1,234')).toBe('text');
    expect(typeOf('00.5')).toBe('text');
  });

  it('reads true/false/yes/no/t/f as booleans in any case, but not 0 and 1', () => {
    expect(typeOf('true', 'FALSE', 'Yes', 'no', 't', 'F')).toBe('boolean');
    expect(typeOf('0', '1')).toBe('integer');
    expect(typeOf('true', '1')).toBe('text');
  });

  it('accepts only real calendar dates', () => {
    expect(typeOf('2024-02-29', '1999-12-31')).toBe('date');
    expect(typeOf('2023-02-29')).toBe('text');
    expect(typeOf('2024-13-01')).toBe('text');
    expect(typeOf('0000-01-01')).toBe('text');
    expect(typeOf('24-01-01')).toBe('text');
  });

  it('reads ISO 8601 timestamps with or without fraction and offset, and widens dates to them', () => {
    expect(typeOf('2024-03-01T10:00:00Z', '2024-03-01 10:00:00', '2024-03-01T10:00:00.123456+05:30')).toBe(
      'timestamp',
    );
    expect(typeOf('2024-03-01', '2024-03-01T10:00')).toBe('timestamp');
    expect(typeOf('2024-03-01T25:00:00')).toBe('text');
  });

  it('reads objects and arrays that parse as JSON', () => {
    expect(typeOf('{"a":1}', '[1,2]')).toBe('json');
    expect(typeOf('{not json}')).toBe('text');
    expect(typeOf('"a string"')).toBe('text');
  });

  it('lets blanks not vote, and makes an all-blank column text', () => {
    expect(typeOf(null, '', '  ', '5')).toBe('integer');
    expect(typeOf(null, '', '   ')).toBe('text');
  });

  it('types typed values by what they are, and JSON strings only as dates or text', () => {
    const typed = (values: unknown[]) =>
      inferTypes(
        values.map((value) => [value]),
        1,
        false,
      )[0];
    expect(typed([1, 2, 3])).toBe('integer');
    expect(typed([1, 2.5])).toBe('float');
    expect(typed([true, false])).toBe('boolean');
    expect(typed([{ a: 1 }, [2]])).toBe('json');
    expect(typed(['12', '13'])).toBe('text');
    expect(typed(['2024-01-01'])).toBe('date');
    expect(typed([new Date(Date.UTC(2024, 0, 1, 12))])).toBe('timestamp');
  });
});

describe('canonical COPY values', () => {
  it('writes integers as plain digits', () => {
    expect(copyText('integer', '+7', true)).toBe('7');
    expect(copyText('integer', '-0', true)).toBe('0');
    expect(copyText('integer', ' 42 ', true)).toBe('42');
    expect(copyText('integer', 12n, false)).toBe('12');
    expect(copyText('integer', 2 ** 63, false)).toBeUndefined();
  });

  it('writes booleans as t and f', () => {
    expect(copyText('boolean', 'Yes', true)).toBe('t');
    expect(copyText('boolean', false, false)).toBe('f');
  });

  it('writes timestamps as ISO 8601 with an offset, UTC when none was given', () => {
    expect(copyText('timestamp', '2024-03-01 10:00:00', true)).toBe('2024-03-01T10:00:00Z');
    expect(copyText('timestamp', '2024-03-01T10:00+0530', true)).toBe('2024-03-01T10:00:00+05:30');
    expect(copyText('timestamp', '2024-03-01', true)).toBe('2024-03-01T00:00:00Z');
    expect(copyText('timestamp', new Date(Date.UTC(2024, 2, 1, 9, 30)), false)).toBe(
      '2024-03-01T09:30:00.000Z',
    );
  });

  it('writes JSON compactly, and a JSON source’s strings as JSON strings', () => {
    expect(copyText('json', ' { "a" : [1, 2] } ', true)).toBe('{"a":[1,2]}');
    expect(copyText('json', 'plain', false)).toBe('"plain"');
    expect(copyText('json', { big: 2n ** 60n }, false)).toBe('{"big":"1152921504606846976"}');
  });

  it('writes anything as text', () => {
    expect(copyText('text', 1.5, false)).toBe('1.5');
    expect(copyText('text', true, false)).toBe('true');
    expect(copyText('text', new Uint8Array([1, 255]), false)).toBe('01ff');
  });
});
