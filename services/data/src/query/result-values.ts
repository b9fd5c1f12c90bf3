import pg from 'pg';
import type { ColumnType } from '../datasets/datasets.types.ts';

/** One column of a query result, in DataLab's own column types. */
export interface ResultColumn {
  name: string;
  type: ColumnType;
}

/** A value as the JSON answer carries it: integers beyond 2^53 stay strings, dates and timestamps ISO text. */
export type ResultValue = string | number | boolean | null | unknown[] | Record<string, unknown>;

const INTEGER_OIDS = new Set([20, 21, 23, 26]);
const FLOAT_OIDS = new Set([700, 701, 1700]);
const JSON_OIDS = new Set([114, 3802]);
/** Arrays of common types become JSON arrays. */
const ARRAY_OIDS = new Set([
  199, 1000, 1005, 1007, 1009, 1014, 1015, 1016, 1021, 1022, 1115, 1182, 1185, 1231, 3807,
]);

/** PostgreSQL type OID → our column type; anything unlisted (uuid, interval, time…) is text. */
export function columnTypeOf(oid: number): ColumnType {
  if (INTEGER_OIDS.has(oid)) return 'integer';
  if (FLOAT_OIDS.has(oid)) return 'float';
  if (oid === 16) return 'boolean';
  if (oid === 1082) return 'date';
  if (oid === 1114 || oid === 1184) return 'timestamp';
  if (JSON_OIDS.has(oid) || ARRAY_OIDS.has(oid)) return 'json';
  return 'text';
}

function integerValue(text: string): number | string {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : text;
}

/** numeric keeps its exact text when a float would lose whole digits. */
function floatValue(text: string): number | string {
  if (/^-?\d+$/.test(text)) return integerValue(text);
  return Number(text);
}

/** The session runs in UTC, so timestamptz text ends in +00; both kinds become ISO 8601. */
function timestampValue(text: string): string {
  if (!/^\d{4,}-\d\d-\d\d /.test(text)) return text;
  return text.replace(' ', 'T').replace(/\+00$/, 'Z');
}

/** Rows arrive as PostgreSQL text; this turns one column's text into its answer value. */
export function valueParser(oid: number): (text: string) => ResultValue {
  if (ARRAY_OIDS.has(oid)) {
    const parse = pg.types.getTypeParser(oid) as (text: string) => unknown[];
    return (text) => JSON.parse(JSON.stringify(parse(text))) as unknown[];
  }
  switch (columnTypeOf(oid)) {
    case 'integer':
      return integerValue;
    case 'float':
      return floatValue;
    case 'boolean':
      return (text) => text === 't';
    case 'timestamp':
      return timestampValue;
    case 'json':
      return (text) => JSON.parse(text) as ResultValue;
    case 'date':
    case 'text':
      return (text) => text;
  }
}

/** Whole days since 1970-01-01 for a `YYYY-MM-DD` date; null for infinity or BC dates. */
export function epochDays(value: ResultValue): number | null {
  if (typeof value !== 'string' || !/^\d{4}-\d\d-\d\d$/.test(value)) return null;
  return Date.parse(`${value}T00:00:00Z`) / 86_400_000;
}

/** Microseconds since the epoch for an ISO timestamp, exactly (a JS Date keeps only milliseconds). */
export function epochMicros(value: ResultValue): bigint | null {
  if (typeof value !== 'string') return null;
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z?$/.exec(value);
  if (!match) return null;
  const millis = Date.parse(`${match[1]}Z`);
  if (Number.isNaN(millis)) return null;
  return BigInt(millis) * 1000n + BigInt((match[2] ?? '').padEnd(6, '0'));
}

/** Integers for Arrow and Parquet INT64 columns; a numeric that is not whole is rounded. */
export function bigIntValue(value: ResultValue): bigint | null {
  if (typeof value === 'number') return Number.isFinite(value) ? BigInt(Math.round(value)) : null;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return null;
}

export function floatOf(value: ResultValue): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  return null;
}

export function textOf(value: ResultValue, type: ColumnType): string | null {
  if (value === null) return null;
  if (type === 'json') return JSON.stringify(value);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
