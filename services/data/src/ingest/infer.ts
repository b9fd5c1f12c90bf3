import type { ColumnType } from '../datasets/datasets.types.ts';
import { copyText, isBlank } from './values.ts';

/** Narrowest first: the first type every sampled value fits is the column's type. */
const NARROWEST_FIRST: readonly ColumnType[] = ['integer', 'float', 'boolean', 'date', 'timestamp', 'json'];
// A string written as a string in JSON stays text, unless it spells a date: JSON has no date type.
const STRING_TYPES: ReadonlySet<ColumnType> = new Set(['date', 'timestamp']);

/**
 * Each column's type from the sample rows. Blank values do not vote; a column with nothing but
 * blanks, or whose values share no narrower type, is text.
 */
export function inferTypes(
  sample: readonly (readonly unknown[])[],
  width: number,
  textual: boolean,
): ColumnType[] {
  return Array.from({ length: width }, (_, column) => {
    let candidates = NARROWEST_FIRST;
    for (const row of sample) {
      const value = row[column];
      if (isBlank(value)) continue;
      candidates = candidates.filter(
        (type) =>
          (textual || typeof value !== 'string' || STRING_TYPES.has(type)) &&
          copyText(type, value, textual) !== undefined,
      );
      if (candidates.length === 0) break;
    }
    const seen = sample.some((row) => !isBlank(row[column]));
    return (seen && candidates[0]) || 'text';
  });
}
