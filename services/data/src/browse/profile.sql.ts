import type { ColumnType } from '../datasets/datasets.types.ts';
import { sqlIdentifier } from '../engine/duck-instance.ts';

/**
 * The two DuckDB statements of a profile, each one scan of the columns it
 * names, over every row:
 * 1. aggregates: count, min, max, mean, standard deviation, exact quantiles
 *    (`quantile_cont`, as PostgreSQL's `percentile_cont`) and, for columns
 *    without top values, exact distinct counts;
 * 2. frequencies: one GROUPING SETS pass giving each top-value column's
 *    distinct count and 10 most frequent values, and each binned column's
 *    histogram over the range the first statement found.
 * Output names are made of a prefix and the column's place, so no column
 * name can clash with them.
 */

export const NUMBER_TYPES: ReadonlySet<ColumnType> = new Set(['integer', 'float']);
export const TIME_TYPES: ReadonlySet<ColumnType> = new Set(['date', 'timestamp']);
const ORDERED_TYPES: ReadonlySet<ColumnType> = new Set([...NUMBER_TYPES, ...TIME_TYPES, 'text']);
export const TOP_TYPES: ReadonlySet<ColumnType> = new Set(['text', 'boolean', 'integer']);
const TOP_VALUES = 10;
export const HISTOGRAM_BINS = 20;

/** A column by its place in the dataset's column list. */
export interface IndexedColumn {
  index: number;
  name: string;
  type: ColumnType;
}

/** A column to bin, over the range of its values as numbers (epoch seconds for dates and timestamps). */
export interface BinnedColumn extends IndexedColumn {
  low: number;
  high: number;
}

/** The column as a number: itself, or epoch seconds for dates and timestamps. */
function numeric({ name, type }: IndexedColumn): string {
  const c = sqlIdentifier(name);
  return TIME_TYPES.has(type) ? `epoch(${c})` : `CAST(${c} AS DOUBLE)`;
}

/** JSON values are one value however they are spaced. */
function distinctValue({ name, type }: IndexedColumn): string {
  const c = sqlIdentifier(name);
  return type === 'json' ? `json(${c})` : c;
}

function aggregateItems(column: IndexedColumn): string[] {
  const { index, name, type } = column;
  const c = sqlIdentifier(name);
  const items = [`count(${c}) AS n${index}`];
  // Text compares by code point: DuckDB's default (binary) collation.
  if (ORDERED_TYPES.has(type)) items.push(`min(${c}) AS min${index}`, `max(${c}) AS max${index}`);
  if (NUMBER_TYPES.has(type)) {
    const x = numeric(column);
    items.push(
      `avg(${x}) AS mean${index}`,
      `stddev_samp(${x}) AS sd${index}`,
      `quantile_cont(${x}, [0.25, 0.5, 0.75]) AS q${index}`,
    );
  }
  if (NUMBER_TYPES.has(type) || TIME_TYPES.has(type)) {
    items.push(`min(${numeric(column)}) AS lo${index}`, `max(${numeric(column)}) AS hi${index}`);
  }
  if (!TOP_TYPES.has(type)) items.push(`count(DISTINCT ${distinctValue(column)}) AS d${index}`);
  return items;
}

/** Row count and every column's aggregates, in one row. */
export function aggregatesSql(view: string, columns: readonly IndexedColumn[]): string {
  const select = ['count(*) AS row_count', ...columns.flatMap(aggregateItems)];
  return `SELECT ${select.join(', ')} FROM ${sqlIdentifier(view)}`;
}

/** A finite number as a DOUBLE literal. */
const double = (x: number): string => `CAST('${x}' AS DOUBLE)`;

/** The 0-based bin of a value (null for null); the maximum belongs in the last bin. */
function binOf(column: BinnedColumn): string {
  const { low, high } = column;
  const at = `floor((${numeric(column)} - ${double(low)}) * ${HISTOGRAM_BINS} / (${double(high)} - ${double(low)}))`;
  // Not least(): DuckDB's least() skips nulls, which would put every null in the last bin.
  const last = HISTOGRAM_BINS - 1;
  return `CAST(CASE WHEN ${at} > ${last} THEN ${last} ELSE ${at} END AS INTEGER)`;
}

/**
 * Distinct counts and top values of `top` columns, histogram bins of `binned`
 * ones, in one row; null when there are none.
 */
export function frequenciesSql(
  view: string,
  top: readonly IndexedColumn[],
  binned: readonly BinnedColumn[],
): string | undefined {
  if (top.length === 0 && binned.length === 0) return undefined;
  const keys = [
    ...top.map((column) => ({ key: `t${column.index}`, sql: sqlIdentifier(column.name) })),
    ...binned.map((column) => ({ key: `b${column.index}`, sql: binOf(column) })),
  ];
  const grouped = keys.map(({ key }) => `grouping(${key}) = 0 AS in_${key}`);
  const select = [
    ...top.flatMap(({ index }) => [
      `count(t${index}) FILTER (WHERE in_t${index}) AS d${index}`,
      // Most frequent first; ties by the value's text, as PostgreSQL's COLLATE "C" ordered them.
      `min_by({'value': t${index}, 'count': n}, (-n, CAST(t${index} AS VARCHAR)), ${TOP_VALUES})
         FILTER (WHERE in_t${index} AND t${index} IS NOT NULL) AS top${index}`,
    ]),
    ...binned.map(
      ({ index }) =>
        `list({'bin': b${index}, 'count': n}) FILTER (WHERE in_b${index} AND b${index} IS NOT NULL) AS bins${index}`,
    ),
  ];
  return `WITH keyed AS (SELECT ${keys.map(({ key, sql }) => `${sql} AS ${key}`).join(', ')} FROM ${sqlIdentifier(view)}),
    counted AS (
      SELECT ${[...grouped, ...keys.map(({ key }) => key), 'count(*) AS n'].join(', ')}
      FROM keyed GROUP BY GROUPING SETS (${keys.map(({ key }) => `(${key})`).join(', ')})
    )
    SELECT ${select.join(', ')} FROM counted`;
}
