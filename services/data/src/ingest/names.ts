import { ROW_ID_COLUMN } from '../datasets/datasets.types.ts';

const MAX_IDENTIFIER = 63;

/**
 * PostgreSQL's reserved key words (and the common non-reserved ones that still trip up SQL):
 * a column named `order` would have to be quoted in every query people write.
 */
const KEYWORDS = new Set(
  (
    'all analyse analyze and any array as asc asymmetric authorization between bigint binary both case cast check ' +
    'collate collation column concurrently constraint create cross current_catalog current_date current_role ' +
    'current_schema current_time current_timestamp current_user default deferrable desc distinct do else end ' +
    'except exists false fetch for foreign freeze from full grant group having ilike in initially inner intersect ' +
    'into is isnull join lateral leading left like limit localtime localtimestamp natural not notnull null offset ' +
    'on only or order outer overlaps placing primary references returning right select session_user similar some ' +
    'symmetric system_user table tablesample then to trailing true union unique user using variadic verbose when ' +
    'where window with'
  ).split(' '),
);

/** One name made safe: lowercase ASCII letters, digits and `_`, not starting with a digit. */
function safeName(original: string, position: number): string {
  const ascii = original
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '');
  const name = (/^[0-9]/.test(ascii) ? `_${ascii}` : ascii || `column_${position}`).slice(0, MAX_IDENTIFIER);
  return name === ROW_ID_COLUMN || KEYWORDS.has(name) ? `${name.slice(0, MAX_IDENTIFIER - 1)}_` : name;
}

/** Safe, unique SQL identifiers for the file's column names, in order; later duplicates get `_2`, `_3`, … */
export function safeNames(originals: readonly string[]): string[] {
  const taken = new Set<string>();
  return originals.map((original, index) => {
    const base = safeName(original, index + 1);
    let name = base;
    for (let n = 2; taken.has(name); n++) {
      const suffix = `_${n}`;
      name = `${base.slice(0, MAX_IDENTIFIER - suffix.length)}${suffix}`;
    }
    taken.add(name);
    return name;
  });
}
