import type { DatasetColumn } from '../datasets/datasets.types.ts';
import { sqlIdentifier, sqlString } from '../engine/duck-instance.ts';
import { ROW_NUMBER_COLUMN } from '../engine/instance-pool.ts';
import { duckValue } from './column-values.ts';
import type { RowCursor, RowFilter, RowSort, RowsPlan } from './rows.params.ts';

/**
 * The DuckDB statement of one page of rows, over a dataset's rows numbered in
 * file order (the engine's `rowsRelation`). Identifiers come only from the
 * dataset's own column list and values only through `duckValue`, which
 * writes a checked value as a typed SQL literal.
 */

const ROW = sqlIdentifier(ROW_NUMBER_COLUMN);
/** Output names no dataset column has (columns are lower case): the row number and the sort value as text. */
const ROW_OUTPUT = 'ROW';
const SORT_OUTPUT = 'SORT';

/** JSON compares as text in DuckDB; `json()` writes both sides the same way (no spaces) first. */
function comparable(column: DatasetColumn, sql: string): string {
  return column.type === 'json' ? `json(${sql})` : sql;
}

function filterSql({ column, op, values }: RowFilter): string {
  const name = sqlIdentifier(column.name);
  const c = comparable(column, name);
  const value = (text: string) => comparable(column, duckValue(column.type, text));
  const [first = ''] = values;
  switch (op) {
    case 'eq':
      return `${c} = ${value(first)}`;
    case 'ne':
      // A blank is not equal to the value either: nulls stay in, as in a spreadsheet filter.
      return `${c} IS DISTINCT FROM ${value(first)}`;
    case 'lt':
      return `${c} < ${value(first)}`;
    case 'le':
      return `${c} <= ${value(first)}`;
    case 'gt':
      return `${c} > ${value(first)}`;
    case 'ge':
      return `${c} >= ${value(first)}`;
    case 'contains':
      return `contains(lower(${name}), lower(${sqlString(first)}))`;
    case 'starts_with':
      return `starts_with(lower(${name}), lower(${sqlString(first)}))`;
    case 'is_null':
      return `${name} IS NULL`;
    case 'not_null':
      return `${name} IS NOT NULL`;
    case 'in':
      return `${c} IN (${values.map(value).join(', ')})`;
  }
}

/**
 * Rows after the cursor in the order (sort column, row number), nulls last in
 * both directions. The row number breaks ties, so every row has exactly one place.
 */
function keysetSql(sort: RowSort | undefined, after: RowCursor): string {
  const row = after.rowId;
  const beyond = sort?.descending ? '<' : '>';
  if (!sort) return `${ROW} > ${row}`;
  const column = sqlIdentifier(sort.column.name);
  if (after.sortValue === null) return `(${column} IS NULL AND ${ROW} ${beyond} ${row})`;
  const value = duckValue(sort.column.type, after.sortValue);
  return `((${column}, ${ROW}) ${beyond} (${value}, ${row}) OR ${column} IS NULL)`;
}

function orderSql(sort: RowSort | undefined): string {
  if (!sort) return ROW;
  const direction = sort.descending ? 'DESC' : 'ASC';
  return `${sqlIdentifier(sort.column.name)} ${direction} NULLS LAST, ${ROW} ${direction}`;
}

/** NaN and infinities as the text the API answers for them (JSON has no such numbers); else null. */
function floatSpecialSql(column: DatasetColumn): string {
  const c = sqlIdentifier(column.name);
  return `CASE WHEN isnan(${c}) THEN 'NaN' WHEN isinf(${c}) THEN CASE WHEN ${c} > 0 THEN 'Infinity' ELSE '-Infinity' END END`;
}

/**
 * The page's rows and one row more (which says whether another page follows):
 * the columns, then each float column's special value (`floatSpecialSql`),
 * then the row number and the sort value as DuckDB's text, for the cursor.
 * Those extra values are computed outside the top-N, for the page's rows only:
 * inside it, DuckDB would compute them for every row that passes the filters.
 */
export function pageSql(relation: string, columns: readonly DatasetColumn[], plan: RowsPlan): string {
  const where = plan.filters.map(filterSql);
  if (plan.after) where.push(keysetSql(plan.sort, plan.after));
  const names = columns.map((column) => sqlIdentifier(column.name));
  const page = `SELECT ${[...names, ROW].join(', ')} FROM ${relation} AS dataset_rows
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY ${orderSql(plan.sort)} LIMIT ${plan.limit + 1}`;
  const select = [
    ...names,
    ...columns.filter((column) => column.type === 'float').map(floatSpecialSql),
    `${ROW} AS ${sqlIdentifier(ROW_OUTPUT)}`,
    `${plan.sort ? `CAST(${sqlIdentifier(plan.sort.column.name)} AS VARCHAR)` : 'NULL'} AS ${sqlIdentifier(SORT_OUTPUT)}`,
  ];
  return `SELECT ${select.join(', ')} FROM (${page}) AS page ORDER BY ${orderSql(plan.sort)}`;
}
