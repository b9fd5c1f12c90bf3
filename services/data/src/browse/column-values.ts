import type { ColumnType } from '../datasets/datasets.types.ts';
import { sqlString } from '../engine/duck-instance.ts';
import { DUCK_TYPE } from '../versions/duck-types.ts';

/**
 * Whether a caller's text (a filter value, a cursor's sort value) is a value
 * of a column's type, and that value as DuckDB SQL. Checked before the query
 * runs, so a value that does not fit is the caller's 400 naming the
 * parameter, not a failed query. Besides what people type, each check takes
 * DuckDB's own text for the type, which is how cursors carry sort values.
 */

/** What a value of each type looks like, for error messages. */
export const EXPECTED: Readonly<Record<ColumnType, string>> = {
  integer: 'an integer',
  float: 'a number',
  boolean: 'true or false',
  date: 'a date (YYYY-MM-DD)',
  timestamp: 'a timestamp (YYYY-MM-DDTHH:MM:SS with an optional offset)',
  text: 'text',
  json: 'a JSON value',
};

const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const FLOAT_SPECIAL = /^[+-]?(infinity|inf|nan)$/i;
const BOOLEAN = /^(true|false|t|f|1|0)$/i;
const INFINITE_TIME = /^[+-]?infinity$/i;
// DuckDB writes a date before year 1 with ` (BC)`; PostgreSQL's ` BC` is taken too.
const DATE = /^(\d{4,6})-(\d{2})-(\d{2})( BC| \(BC\))?$/i;
const TIMESTAMP =
  /^(\d{4,6})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2}){0,2})?$/i;
// DuckDB's ranges: dates to year 5,881,580 (we stop at six digits), timestamps to 294,247-01-10.
const MAX_YEAR = 999_999;
const MAX_TIMESTAMP_YEAR = 294_246;
const MAX_BC_YEAR = 4713;

function fitsInteger(text: string): boolean {
  if (!INTEGER.test(text)) return false;
  const value = BigInt(text);
  return value >= INT8_MIN && value <= INT8_MAX;
}

function fitsFloat(text: string): boolean {
  if (FLOAT_SPECIAL.test(text)) return true;
  if (!DECIMAL.test(text)) return false;
  const value = Number(text);
  // What a double cannot hold is refused: too large, or so small DuckDB would read it as 0.
  const underflow = value === 0 && /[1-9]/.test(text.replace(/e.*$/i, ''));
  return Number.isFinite(value) && !underflow;
}

function daysInMonth(year: number, bc: boolean, month: number): number {
  // Astronomical numbering: 1 BC is year 0, a leap year.
  const y = bc ? 1 - year : year;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
}

function validDay(
  yearText: string,
  monthText: string,
  dayText: string,
  bc: boolean,
  maxYear = MAX_YEAR,
): boolean {
  const [year, month, day] = [Number(yearText), Number(monthText), Number(dayText)];
  if (year < 1 || year > (bc ? MAX_BC_YEAR : maxYear)) return false;
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, bc, month);
}

function fitsDate(text: string): boolean {
  if (INFINITE_TIME.test(text)) return true;
  const match = DATE.exec(text);
  return match !== null && validDay(match[1]!, match[2]!, match[3]!, match[4] !== undefined);
}

function validOffset(offset: string | undefined): boolean {
  if (offset === undefined || offset.toUpperCase() === 'Z') return true;
  const [hours = 0, minutes = 0, seconds = 0] = (offset.slice(1).match(/\d{2}/g) ?? []).map(Number);
  return hours <= 15 && minutes <= 59 && seconds <= 59;
}

function fitsTimestamp(text: string): boolean {
  if (INFINITE_TIME.test(text)) return true;
  const match = TIMESTAMP.exec(text);
  if (!match) return false;
  const [, year, month, day, hour = '0', minute = '0', second = '0', , offset] = match;
  return (
    validDay(year!, month!, day!, false, MAX_TIMESTAMP_YEAR) &&
    Number(hour) <= 23 &&
    Number(minute) <= 59 &&
    // DuckDB has no leap second.
    Number(second) <= 59 &&
    validOffset(offset)
  );
}

function fitsJson(text: string): boolean {
  // No NUL character in a value, escaped or not, as when the column was written.
  if (/\\u0000/i.test(text)) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export function fitsType(type: ColumnType, text: string): boolean {
  switch (type) {
    case 'integer':
      return fitsInteger(text);
    case 'float':
      return fitsFloat(text);
    case 'boolean':
      return BOOLEAN.test(text);
    case 'date':
      return fitsDate(text);
    case 'timestamp':
      return fitsTimestamp(text);
    case 'text':
      // A NUL character would end the SQL string it is written into.
      return !text.includes('\0');
    case 'json':
      return fitsJson(text);
  }
}

/** The text DuckDB reads as the value meant: its forms for dates before year 1 and for timestamps (UTC unless an offset says otherwise). */
function duckText(type: ColumnType, text: string): string {
  if (type === 'date') return text.replace(/ (BC|\(BC\))$/i, ' (BC)');
  if (type !== 'timestamp' || INFINITE_TIME.test(text)) return text;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', offset = ''] =
    TIMESTAMP.exec(text)!;
  // A time without an offset is UTC, whatever zone the engine runs in.
  const zone = offset === '' || offset.toUpperCase() === 'Z' ? '+00' : offset;
  return `${year}-${month}-${day} ${hour}:${minute}:${second}${fraction}${zone}`;
}

/** A value that fits `type` (see `fitsType`) as a DuckDB expression of the column's type. */
export function duckValue(type: ColumnType, text: string): string {
  return `CAST(${sqlString(duckText(type, text))} AS ${DUCK_TYPE[type]})`;
}
