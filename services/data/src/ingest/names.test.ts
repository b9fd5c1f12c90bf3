import { describe, expect, it } from 'vitest';
import { safeNames } from './names.ts';

describe('safe column names', () => {
  it('lowercases, replaces anything else with one underscore and trims underscores', () => {
    expect(safeNames(['First Name', 'e-mail  address', '__id__', 'Ünïcödé', '价格'])).toEqual([
      'first_name',
      'e_mail_address',
      'id',
      'unicode',
      'column_5',
    ]);
  });

  it('prefixes a leading digit and suffixes keywords and the reserved row id', () => {
    expect(safeNames(['2024', 'select', 'FROM', 'user', '_row_id', 'row id'])).toEqual([
      '_2024',
      'select_',
      'from_',
      'user_',
      'row_id',
      'row_id_2',
    ]);
  });

  it('keeps names within 63 characters, suffixes included', () => {
    const long = 'x'.repeat(100);
    const names = safeNames([long, long, long]);
    expect(names).toEqual(['x'.repeat(63), `${'x'.repeat(61)}_2`, `${'x'.repeat(61)}_3`]);
    expect(names.every((name) => /^[a-z_][a-z0-9_]{0,62}$/.test(name))).toBe(true);
  });

  it('names empty headers by position without clashing with real ones', () => {
    expect(safeNames(['column_2', '', ''])).toEqual(['column_2', 'column_2_2', 'column_3']);
  });
});
