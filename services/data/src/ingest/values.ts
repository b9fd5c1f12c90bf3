import type { ColumnType } from '../datasets/datasets.types.ts';

/**
 * Each value, whatever the source made of it (text from CSV, numbers and objects from JSON,
 * bigints and Dates from Parquet and Excel), checked against a column type and written the one
 * way PostgreSQL reads it back. `undefined` means the value is not of that type.
 */

/** Empty and whitespace-only values are null, in every format. */
export function isBlank(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true;
  // Trimming only strings that start with whitespace keeps the common case free of allocations.
  return typeof value === 'string' && value.charCodeAt(0) <= 32 && value.trim() === '';
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
// A leading zero makes "007" a code, not a number: it stays text.
const INTEGER = /^[+-]?(?:0|[1-9]\d*)$/;
const FLOAT = /^[+-]?(?:(?:0|[1-9]\d*)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(?: ?([Zz]|[+-]\d{2}(?::?\d{2})?))?)?$/;
const TRUE = new Set(['true', 't', 'yes']);
const FALSE = new Set(['false', 'f', 'no']);

function integerText(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const text = value.trim();
    if (!INTEGER.test(text)) return undefined;
    // Up to 18 digits always fits; longer ones are checked exactly.
    if (text.length > 18) return bigintText(BigInt(text));
    const digits = text.startsWith('+') ? text.slice(1) : text;
    return digits === '-0' ? '0' : digits;
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63 ? String(value) : undefined;
  }
  return typeof value === 'bigint' ? bigintText(value) : undefined;
}

const bigintText = (value: bigint): string | undefined =>
  value >= INT64_MIN && value <= INT64_MAX ? value.toString() : undefined;

function floatText(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const text = value.trim();
    if (!FLOAT.test(text) || !Number.isFinite(Number(text))) return undefined;
    // An integer too long for int64 is an identifier, not a measurement: rounding it would lose it.
    if (!/[.eE]/.test(text) && integerText(text) === undefined) return undefined;
    return text;
  }
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

function booleanText(value: unknown): string | undefined {
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value !== 'string') return undefined;
  const word = value.trim().toLowerCase();
  return TRUE.has(word) ? 't' : FALSE.has(word) ? 'f' : undefined;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Plain arithmetic: a Date per value would be garbage for every date in a large file. */
function validDate(year: number, month: number, day: number): boolean {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  // PostgreSQL has no year 0.
  return year >= 1 && days !== undefined && day >= 1 && day <= days;
}

const validDateObject = (value: unknown): value is Date =>
  value instanceof Date &&
  !Number.isNaN(value.getTime()) &&
  value.getUTCFullYear() >= 1 &&
  value.getUTCFullYear() <= 9999;

function dateText(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const text = value.trim();
    const match = DATE.exec(text);
    return match && validDate(Number(match[1]), Number(match[2]), Number(match[3])) ? text : undefined;
  }
  if (validDateObject(value) && value.getTime() % 86_400_000 === 0) return value.toISOString().slice(0, 10);
  return undefined;
}

/** ISO 8601 with the offset it was given, UTC when it had none; a plain date is its midnight. */
function timestampText(value: unknown): string | undefined {
  if (validDateObject(value)) return value.toISOString();
  if (typeof value !== 'string') return undefined;
  const match = TIMESTAMP.exec(value.trim());
  if (!match) return undefined;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', offset] = match;
  if (!validDate(Number(year), Number(month), Number(day))) return undefined;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined;
  const zone = offsetText(offset);
  if (zone === undefined) return undefined;
  return `${year}-${month}-${day}T${hour}:${minute}:${second}${fraction}${zone}`;
}

function offsetText(offset: string | undefined): string | undefined {
  if (offset === undefined || offset === 'Z' || offset === 'z') return 'Z';
  const hours = offset.slice(0, 3);
  const minutes = offset.slice(3).replace(':', '') || '00';
  return Number(hours.slice(1)) <= 15 && Number(minutes) <= 59 ? `${hours}:${minutes}` : undefined;
}

const jsonReplacer = (_key: string, value: unknown): unknown =>
  typeof value === 'bigint'
    ? Number.isSafeInteger(Number(value))
      ? Number(value)
      : value.toString()
    : value;

function jsonText(value: unknown, textual: boolean): string | undefined {
  if (typeof value === 'string' && textual) {
    const text = value.trim();
    if (text[0] !== '{' && text[0] !== '[') return undefined;
    try {
      return JSON.stringify(JSON.parse(text));
    } catch {
      return undefined;
    }
  }
  return JSON.stringify(value, jsonReplacer);
}

function textText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return JSON.stringify(value, jsonReplacer);
}

/**
 * `value` (not blank) as PostgreSQL text input for `type`, or undefined if it is not one.
 * `textual`: strings come from a text format, so "42" may be a number and "{…}" JSON.
 */
export function copyText(type: ColumnType, value: unknown, textual: boolean): string | undefined {
  switch (type) {
    case 'integer':
      return integerText(value);
    case 'float':
      return floatText(value);
    case 'boolean':
      return booleanText(value);
    case 'date':
      return dateText(value);
    case 'timestamp':
      return timestampText(value);
    case 'json':
      return jsonText(value, textual);
    case 'text':
      return textText(value);
  }
}
