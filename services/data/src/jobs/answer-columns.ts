import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';
import type { ColumnType, DatasetColumn } from '../datasets/datasets.types.ts';
import { sqlString } from '../engine/duck-instance.ts';
import { columnTypeOf } from '../engine/values.ts';
import type { AnswerColumn, WrittenColumn } from '../engine/writer.ts';
import { safeNames } from '../ingest/names.ts';
import { DUCK_TYPE } from '../versions/duck-types.ts';

/**
 * A query's answer as a dataset's columns. Each column gets the DataLab type
 * of its DuckDB type and is written as that type's storage type (duck-types.ts),
 * so a job's dataset reads like an uploaded one. Types DataLab has no type
 * for (TIME, INTERVAL, UUID, ENUM, BIT, BLOB, …) become text: the text the
 * query API shows for them (BLOB as base64). Whole numbers wider than BIGINT
 * (a sum is HUGEINT) are kept while they fit, and a value that does not fails
 * the write naming its column.
 */

const NARROW_INTEGERS = new Set([
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
]);

const isJson = (type: DuckDBType): boolean => type.alias?.toUpperCase() === 'JSON';

/** DataLab's type for a column of an answer: JSON text stays json, the rest as the query API reports it. */
export function datasetColumnType(type: DuckDBType): ColumnType {
  return isJson(type) ? 'json' : columnTypeOf(type);
}

const cast = (column: string, to: ColumnType): string => `CAST(${column} AS ${DUCK_TYPE[to]})`;

/** `column` as a BIGINT, or an error naming the dataset column when a value does not fit. */
function bigint(name: string): (column: string) => string {
  const refusal = sqlString(
    `column "${name}": the value does not fit a 64-bit integer (DataLab's integer); cast it to DOUBLE or VARCHAR in the query: `,
  );
  return (column) =>
    `coalesce(TRY_CAST(${column} AS BIGINT), CASE WHEN ${column} IS NOT NULL THEN error(${refusal} || CAST(${column} AS VARCHAR)) END)`;
}

/**
 * A timestamp without a zone taken as UTC, whatever the instance's zone: its microseconds since
 * the epoch are the instant's. (An ICU cast costs twenty times more; it is kept for ±infinity.)
 */
function utc(column: string): string {
  const micros = `CAST(${column} AS TIMESTAMP)`;
  return `CASE WHEN isfinite(${micros}) THEN make_timestamptz(epoch_us(${micros})) ELSE CAST(${micros} AS TIMESTAMPTZ) END`;
}

/** SQL turning an answer column of `type` into the storage type of `to`. */
function stored(type: DuckDBType, to: ColumnType, name: string): (column: string) => string {
  switch (to) {
    case 'integer':
      return NARROW_INTEGERS.has(type.typeId) ? (column) => cast(column, to) : bigint(name);
    case 'timestamp':
      return type.typeId === DuckDBTypeId.TIMESTAMP_TZ ? (column) => column : utc;
    case 'json':
      return isJson(type) ? (column) => column : (column) => cast(column, to);
    case 'text':
      return type.typeId === DuckDBTypeId.BLOB
        ? (column) => `to_base64(${column})`
        : (column) => cast(column, to);
    case 'float':
    case 'boolean':
    case 'date':
      return (column) => cast(column, to);
  }
}

/** The dataset's columns for an answer (names made safe and unique, as an upload's are) and how each is written. */
export function answerColumns(answer: readonly AnswerColumn[]): {
  columns: DatasetColumn[];
  written: WrittenColumn[];
} {
  const names = safeNames(answer.map((column) => column.name));
  const columns = answer.map((column, index) => ({
    name: names[index]!,
    original_name: column.name,
    type: datasetColumnType(column.type),
  }));
  const written = answer.map((column, index) => ({
    name: columns[index]!.name,
    value: stored(column.type, columns[index]!.type, columns[index]!.name),
  }));
  return { columns, written };
}
