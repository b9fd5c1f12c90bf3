import type { ColumnType } from '../datasets/datasets.types.ts';

/**
 * Byte-level checks for the CSV fast path: `true` when the bytes of a value are a form that
 * copyText (values.ts) accepts *and* that PostgreSQL reads to exactly what copyText would have
 * sent. Anything else — whitespace, exponents, NaN, a leading zero, an odd spelling, NUL — is
 * not judged here: the record goes through the exact checks of the general path instead. So a
 * `false` never refuses a value, it only takes the slow road.
 */

const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const BACKSLASH = 0x5c;

const isDigit = (byte: number): boolean => byte >= ZERO && byte <= NINE;

/** [+-]?(0|[1-9]\d{0,17}): up to 18 digits always fits a bigint. */
function integerBytes(bytes: Uint8Array, start: number, end: number): boolean {
  let i = start;
  if (i < end && (bytes[i] === MINUS || bytes[i] === PLUS)) i++;
  const digits = end - i;
  if (digits < 1 || digits > 18) return false;
  if (bytes[i] === ZERO) return digits === 1;
  for (; i < end; i++) if (!isDigit(bytes[i]!)) return false;
  return true;
}

/** [+-]?((0|[1-9]\d*)(\.\d*)?|\.\d+) without an exponent; with no point, at most 18 digits. */
function floatBytes(bytes: Uint8Array, start: number, end: number): boolean {
  let i = start;
  if (i < end && (bytes[i] === MINUS || bytes[i] === PLUS)) i++;
  const intStart = i;
  while (i < end && isDigit(bytes[i]!)) i++;
  const intDigits = i - intStart;
  if (intDigits > 1 && bytes[intStart] === ZERO) return false;
  if (i === end) return intDigits >= 1 && intDigits <= 18;
  if (bytes[i] !== DOT) return false;
  i++;
  const fractionStart = i;
  while (i < end && isDigit(bytes[i]!)) i++;
  return i === end && (intDigits > 0 || i > fractionStart);
}

const lower = (byte: number): number => byte | 0x20;

/** Whether the bytes are `word` (lower case) in any case. */
function isWord(bytes: Uint8Array, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (lower(bytes[start + i]!) !== word.charCodeAt(i)) return false;
  return true;
}

/**
 * true/false/t/f/yes/no in any case: PostgreSQL's boolean input reads the same words. Plain
 * calls, no closure: this runs for every boolean value of the file.
 */
function booleanBytes(bytes: Uint8Array, start: number, end: number): boolean {
  return (
    isWord(bytes, start, end, 't') ||
    isWord(bytes, start, end, 'f') ||
    isWord(bytes, start, end, 'true') ||
    isWord(bytes, start, end, 'false') ||
    isWord(bytes, start, end, 'yes') ||
    isWord(bytes, start, end, 'no')
  );
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function number(bytes: Uint8Array, start: number, length: number): number {
  let value = 0;
  for (let i = start; i < start + length; i++) {
    const byte = bytes[i]!;
    if (!isDigit(byte)) return -1;
    value = value * 10 + byte - ZERO;
  }
  return value;
}

/** YYYY-MM-DD, a real day (year 1 and later). */
function dateBytes(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start !== 10 || bytes[start + 4] !== MINUS || bytes[start + 7] !== MINUS) return false;
  const year = number(bytes, start, 4);
  const month = number(bytes, start + 5, 2);
  const day = number(bytes, start + 8, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}

const COLON = 0x3a;

/** `HH:MM` or `HH:MM:SS` at `at`, in range; returns where it ends, or -1. */
function timeBytes(bytes: Uint8Array, at: number, end: number): number {
  if (end - at < 5 || bytes[at + 2] !== COLON) return -1;
  const hour = number(bytes, at, 2);
  const minute = number(bytes, at + 3, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return -1;
  if (at + 5 === end || bytes[at + 5] !== COLON) return at + 5;
  const second = number(bytes, at + 6, 2);
  if (end - at < 8 || second < 0 || second > 59) return -1;
  let i = at + 8;
  if (i < end && bytes[i] === DOT) {
    const fraction = ++i;
    while (i < end && isDigit(bytes[i]!)) i++;
    if (i === fraction || i - fraction > 9) return -1;
  }
  return i;
}

/**
 * `YYYY-MM-DD`, optionally `T` or space and a time, optionally `Z` or `±HH[:MM]`: read by
 * PostgreSQL (in a UTC session) as the instant copyText names.
 */
function timestampBytes(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start < 10 || !dateBytes(bytes, start, start + 10)) return false;
  if (end - start === 10) return true;
  const separator = bytes[start + 10];
  if (separator !== 0x54 && separator !== 0x20) return false;
  const i = timeBytes(bytes, start + 11, end);
  if (i < 0 || i === end) return i === end;
  if (bytes[i] === 0x5a) return i + 1 === end;
  if (bytes[i] !== PLUS && bytes[i] !== MINUS) return false;
  const hours = number(bytes, i + 1, 2);
  if (hours < 0 || hours > 15) return false;
  if (i + 3 === end) return true;
  return (
    i + 6 === end && bytes[i + 3] === COLON && number(bytes, i + 4, 2) >= 0 && number(bytes, i + 4, 2) <= 59
  );
}

/**
 * Any bytes PostgreSQL stores as they are: not `\.` (which ends COPY data when it is a whole
 * line), not longer than the cell limit. (NUL bytes are caught by the scanner, which sees every byte.)
 */
function textBytes(bytes: Uint8Array, start: number, end: number, maxCellBytes: number): boolean {
  // A value starting with a space or control character may be blank, which the general path makes null.
  if (end - start > maxCellBytes || bytes[start]! <= 0x20) return false;
  return !(end - start === 2 && bytes[start] === BACKSLASH && bytes[start + 1] === DOT);
}

export type FastCheck = (bytes: Uint8Array, start: number, end: number) => boolean;

/** The check for one column type; `undefined` for types only the general path may judge. */
export function fastCheck(type: ColumnType, maxCellBytes: number): FastCheck | undefined {
  switch (type) {
    case 'integer':
      return integerBytes;
    case 'float':
      return floatBytes;
    case 'boolean':
      return booleanBytes;
    case 'date':
      return dateBytes;
    case 'text':
      return (bytes, start, end) => textBytes(bytes, start, end, maxCellBytes);
    case 'timestamp':
      return timestampBytes;
    case 'json':
      return undefined;
  }
}
