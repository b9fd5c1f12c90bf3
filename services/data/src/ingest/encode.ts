import type { ColumnType, DatasetColumn } from '../datasets/datasets.types.ts';
import { reportValue } from './errors.ts';
import type { RejectedRow } from './types.ts';
import { copyText, isBlank } from './values.ts';

/** PostgreSQL COPY text format: tab between fields, `\N` for null, one line per row. */
const NULL = '\\N';
const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

export function escapeCopy(text: string): string {
  return SPECIAL.test(text) ? text.replace(SPECIALS, (char) => ESCAPES[char]!) : text;
}

/** Only text and JSON can hold a backslash, tab or line break; the other types' canonical forms cannot. */
const NEEDS_ESCAPING: ReadonlySet<ColumnType> = new Set(['text', 'json']);

/**
 * Checks a row's values against the columns and writes them as one COPY line (newline included),
 * or says what is wrong with the first value that does not fit.
 */
export function rowEncoder(
  columns: readonly DatasetColumn[],
  maxCellBytes: number,
  textual: boolean,
): (values: readonly unknown[], line: number) => string | RejectedRow {
  const types = columns.map((column) => column.type);
  const escaped = types.map((type) => NEEDS_ESCAPING.has(type));
  // A UTF-8 character takes at most 3 bytes per UTF-16 unit: shorter strings need no byte count.
  const safeLength = Math.floor(maxCellBytes / 3);
  const oversize = (text: string): boolean =>
    text.length > safeLength && Buffer.byteLength(text) > maxCellBytes;
  const tooLarge = { message: `the value is larger than ${maxCellBytes} bytes` };
  const nul = { message: 'the value contains the character U+0000, which PostgreSQL cannot store' };

  /** The value's COPY field, or why it cannot be one (allocated only for bad values). */
  function field(type: ColumnType, value: unknown, escape: boolean): string | { message: string } {
    if (typeof value === 'string' && oversize(value)) return tooLarge;
    const text = copyText(type, value, textual);
    if (text === undefined) return { message: `expected ${type}, got ${JSON.stringify(reportValue(value))}` };
    if (!escape) return text;
    if (oversize(text)) return tooLarge;
    // PostgreSQL text and jsonb cannot hold U+0000.
    if (text.includes('\0') || (type === 'json' && text.includes('\\u0000'))) return nul;
    return escapeCopy(text);
  }

  return (values, line) => {
    let out = '';
    for (let i = 0; i < types.length; i++) {
      if (i > 0) out += '\t';
      const value = values[i];
      if (isBlank(value)) {
        out += NULL;
        continue;
      }
      const encoded = field(types[i]!, value, escaped[i]!);
      if (typeof encoded !== 'string') {
        const column = columns[i]!;
        return {
          line,
          column: column.original_name,
          value: reportValue(value),
          expected: column.type,
          ...encoded,
        };
      }
      out += encoded;
    }
    return out + '\n';
  };
}
