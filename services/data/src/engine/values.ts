import {
  DuckDBArrayType,
  DuckDBListType,
  DuckDBMapType,
  DuckDBStructType,
  DuckDBTypeId,
  DuckDBUnionType,
  type DuckDBBlobValue,
  type DuckDBDataChunk,
  type DuckDBDateValue,
  type DuckDBDecimalType,
  type DuckDBListValue,
  type DuckDBMapValue,
  type DuckDBStructValue,
  type DuckDBType,
  type DuckDBUnionValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { ColumnType } from '../datasets/datasets.types.ts';
import type { ResultValue } from '../query/result-values.ts';

/**
 * DuckDB values as JSON-safe answer values, one converter per column built
 * from its type once. The choices (docs/decisions.md, "DuckDB engine"):
 * - whole numbers are numbers while they are safe integers (|n| < 2^53),
 *   else their exact decimal text (BIGINT, UBIGINT, HUGEINT, UHUGEINT, BIGNUM);
 * - DECIMAL is a number up to 15 digits (exact in a double), else its exact text;
 * - NaN and ±Infinity are null, as JSON has no such numbers;
 * - DATE is 'YYYY-MM-DD'; TIMESTAMP (any precision) ISO 8601 without a zone,
 *   TIMESTAMPTZ ISO 8601 in UTC ending in Z; infinite ones 'infinity' / '-infinity';
 * - TIME, TIMETZ, INTERVAL, UUID, BIT and ENUM are DuckDB's text for them;
 * - BLOB is base64;
 * - LIST and ARRAY are arrays, STRUCT objects, MAP arrays of { key, value }
 *   (keys need not be strings), UNION the value of its member.
 */

export type Convert = (value: DuckDBValue) => ResultValue;

const DATE_INFINITY = 2_147_483_647;

const wholeNumber = (value: bigint): number | string => {
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : value.toString();
};

const finite = (value: number): number | null => (Number.isFinite(value) ? value : null);

const timestampText = (text: string): string => (text.includes('infinity') ? text : text.replace(' ', 'T'));

const timestampTzText = (text: string): string =>
  text.includes('infinity') ? text : text.replace(' ', 'T').replace(/\+00$/, 'Z');

function dateText(value: DuckDBDateValue): string {
  if (value.days === DATE_INFINITY) return 'infinity';
  if (value.days === -DATE_INFINITY) return '-infinity';
  return value.toString();
}

function nestedConverter(type: DuckDBType): Convert | undefined {
  if (type instanceof DuckDBListType || type instanceof DuckDBArrayType) {
    const item = converterFor(type.valueType);
    return (value) => (value as DuckDBListValue).items.map((entry) => (entry === null ? null : item(entry)));
  }
  if (type instanceof DuckDBStructType) {
    const members = type.entryTypes.map(converterFor);
    return (value) => {
      const entries = (value as DuckDBStructValue).entries;
      const out: Record<string, ResultValue> = {};
      type.entryNames.forEach((name, index) => {
        const entry = entries[name];
        out[name] = entry === null || entry === undefined ? null : members[index]!(entry);
      });
      return out;
    };
  }
  if (type instanceof DuckDBMapType) {
    const key = converterFor(type.keyType);
    const item = converterFor(type.valueType);
    return (value) =>
      (value as DuckDBMapValue).entries.map((entry) => ({
        key: entry.key === null ? null : key(entry.key),
        value: entry.value === null ? null : item(entry.value),
      }));
  }
  if (type instanceof DuckDBUnionType) {
    const members = type.memberTypes.map(converterFor);
    return (value) => {
      const union = value as DuckDBUnionValue;
      const member = members[type.tagMemberIndexes[union.tag] ?? -1];
      return union.value === null || !member ? null : member(union.value);
    };
  }
  return undefined;
}

const INTEGER_TYPES = [
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
];
const BIG_INTEGER_TYPES = [
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.BIGNUM,
];
const TIMESTAMP_TYPES = [
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
];

const text: Convert = (value) => String(value);

/** Scalar converters by type; a type not listed (VARCHAR, ENUM, UUID, TIME*, INTERVAL, BIT, GEOMETRY) is its text. */
const SCALARS = new Map<DuckDBTypeId, (type: DuckDBType) => Convert>([
  [DuckDBTypeId.BOOLEAN, () => (value) => value as boolean],
  ...INTEGER_TYPES.map((id) => [id, () => (value: DuckDBValue) => value as number] as const),
  ...BIG_INTEGER_TYPES.map((id) => [id, () => (value: DuckDBValue) => wholeNumber(value as bigint)] as const),
  [DuckDBTypeId.FLOAT, () => (value) => finite(value as number)],
  [DuckDBTypeId.DOUBLE, () => (value) => finite(value as number)],
  [
    DuckDBTypeId.DECIMAL,
    (type) => ((type as DuckDBDecimalType).width <= 15 ? (value) => finite(Number(String(value))) : text),
  ],
  [DuckDBTypeId.DATE, () => (value) => dateText(value as DuckDBDateValue)],
  ...TIMESTAMP_TYPES.map((id) => [id, () => (value: DuckDBValue) => timestampText(String(value))] as const),
  [DuckDBTypeId.TIMESTAMP_TZ, () => (value) => timestampTzText(String(value))],
  [DuckDBTypeId.BLOB, () => (value) => Buffer.from((value as DuckDBBlobValue).bytes).toString('base64')],
  [DuckDBTypeId.SQLNULL, () => () => null],
]);

/** The converter for one column (or nested member) of the given type. */
export function converterFor(type: DuckDBType): Convert {
  return nestedConverter(type) ?? SCALARS.get(type.typeId)?.(type) ?? text;
}

const COLUMN_TYPES = new Map<DuckDBTypeId, ColumnType>([
  ...[...INTEGER_TYPES, ...BIG_INTEGER_TYPES].map((id) => [id, 'integer'] as const),
  ...[DuckDBTypeId.FLOAT, DuckDBTypeId.DOUBLE, DuckDBTypeId.DECIMAL].map((id) => [id, 'float'] as const),
  [DuckDBTypeId.BOOLEAN, 'boolean'],
  [DuckDBTypeId.DATE, 'date'],
  ...[...TIMESTAMP_TYPES, DuckDBTypeId.TIMESTAMP_TZ].map((id) => [id, 'timestamp'] as const),
  ...[DuckDBTypeId.LIST, DuckDBTypeId.ARRAY, DuckDBTypeId.STRUCT, DuckDBTypeId.MAP, DuckDBTypeId.UNION].map(
    (id) => [id, 'json'] as const,
  ),
]);

/** DataLab's column type for a DuckDB type; anything without a closer one is text. */
export function columnTypeOf(type: DuckDBType): ColumnType {
  return COLUMN_TYPES.get(type.typeId) ?? 'text';
}

/** The first `rows` rows of a chunk as arrays of answer values; nothing past them is read. */
export function chunkRows(
  chunk: DuckDBDataChunk,
  converters: readonly Convert[],
  rows: number,
): ResultValue[][] {
  const vectors = converters.map((_, column) => chunk.getColumnVector(column));
  const out: ResultValue[][] = new Array<ResultValue[]>(rows);
  for (let row = 0; row < rows; row++) {
    const values: ResultValue[] = new Array<ResultValue>(converters.length);
    for (let column = 0; column < converters.length; column++) {
      const value = vectors[column]!.getItem(row);
      values[column] = value === null ? null : converters[column]!(value);
    }
    out[row] = values;
  }
  return out;
}
