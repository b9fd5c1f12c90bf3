import { withRowBudget, type Pool } from '@datalab/platform';
import {
  ROW_ID_COLUMN,
  SQL_TYPE,
  qualifiedTable,
  quoteIdent,
  type Dataset,
} from '../datasets/datasets.types.ts';
import { pageTooLarge, rowTooLarge } from '../query/limits.ts';
import type { RowCursor, RowFilter, RowSort, RowsPlan } from './rows.params.ts';
import { valueTypes } from './row-values.ts';

export interface RowsResult {
  rows: unknown[][];
  /** Where this page ended, when more rows follow. */
  next: RowCursor | undefined;
}

const ROW_ID = quoteIdent(ROW_ID_COLUMN);

/** Builds one parameterised statement; identifiers come only from the dataset's own column list. */
function statement() {
  const values: unknown[] = [];
  return {
    values,
    /** `$n::type` for a value, so PostgreSQL compares like with like. */
    param(value: unknown, type?: string): string {
      values.push(value);
      return `$${values.length}${type ? `::${type}` : ''}`;
    },
  };
}
type Statement = ReturnType<typeof statement>;

function likePattern(text: string, prefixOnly: boolean): string {
  const escaped = text.replace(/[\\%_]/g, (c) => `\\${c}`);
  return prefixOnly ? `${escaped}%` : `%${escaped}%`;
}

function filterSql(filter: RowFilter, sql: Statement): string {
  const column = quoteIdent(filter.column.name);
  const type = SQL_TYPE[filter.column.type];
  const [value = ''] = filter.values;
  switch (filter.op) {
    case 'eq':
      return `${column} = ${sql.param(value, type)}`;
    case 'ne':
      // A blank is not equal to the value either: nulls stay in, as in a spreadsheet filter.
      return `${column} IS DISTINCT FROM ${sql.param(value, type)}`;
    case 'lt':
      return `${column} < ${sql.param(value, type)}`;
    case 'le':
      return `${column} <= ${sql.param(value, type)}`;
    case 'gt':
      return `${column} > ${sql.param(value, type)}`;
    case 'ge':
      return `${column} >= ${sql.param(value, type)}`;
    case 'contains':
      return `${column} ILIKE ${sql.param(likePattern(value, false))}`;
    case 'starts_with':
      return `${column} ILIKE ${sql.param(likePattern(value, true))}`;
    case 'is_null':
      return `${column} IS NULL`;
    case 'not_null':
      return `${column} IS NOT NULL`;
    case 'in':
      return `${column} = ANY(${sql.param(filter.values, `${type}[]`)})`;
  }
}

/**
 * Rows after the cursor in the order (sort column, row id), nulls last in both
 * directions. The row id breaks ties, so every row has exactly one place.
 */
function keysetSql(sort: RowSort | undefined, after: RowCursor, sql: Statement): string {
  const rowId = sql.param(after.rowId, 'bigint');
  const beyond = sort?.descending ? '<' : '>';
  if (!sort) return `${ROW_ID} > ${rowId}`;
  const column = quoteIdent(sort.column.name);
  if (after.sortValue === null) return `(${column} IS NULL AND ${ROW_ID} ${beyond} ${rowId})`;
  const value = sql.param(after.sortValue, SQL_TYPE[sort.column.type]);
  return `((${column}, ${ROW_ID}) ${beyond} (${value}, ${rowId}) OR ${column} IS NULL)`;
}

function orderSql(sort: RowSort | undefined): string {
  if (!sort) return ROW_ID;
  const direction = sort.descending ? 'DESC' : 'ASC';
  return `${quoteIdent(sort.column.name)} ${direction} NULLS LAST, ${ROW_ID} ${direction}`;
}

/** `maxBytes`: the most a page may have, as rows arrive from PostgreSQL (QUERY_MAX_ANSWER_BYTES). */
export function createRowsRepository(readPool: Pool, maxBytes: number) {
  const budget = {
    maxRowBytes: maxBytes,
    maxTotalBytes: maxBytes,
    exceeded: (what: 'row' | 'total') => (what === 'row' ? rowTooLarge : pageTooLarge)(maxBytes),
  };
  return {
    async page(dataset: Dataset, plan: RowsPlan): Promise<RowsResult> {
      const sql = statement();
      const where = plan.filters.map((filter) => filterSql(filter, sql));
      if (plan.after) where.push(keysetSql(plan.sort, plan.after, sql));
      // The row id and the sort value come back as text too: the cursor must hold them exactly.
      // Their aliases are upper case, which no column name is: ORDER BY resolves output names
      // first, and must see the columns themselves, not their text.
      const sortText = plan.sort ? `${quoteIdent(plan.sort.column.name)}::text` : 'NULL';
      const select = [
        `${ROW_ID}::text AS "ROW_ID"`,
        ...dataset.columns.map((column) => quoteIdent(column.name)),
        `${sortText} AS "SORT_VALUE"`,
      ];
      // One row more than asked says whether another page follows, without a count.
      const limit = sql.param(plan.limit + 1);
      const result = await withRowBudget(readPool, budget, (client) =>
        client.query<unknown[]>({
          text: `SELECT ${select.join(', ')} FROM ${qualifiedTable(dataset)}
            ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
            ORDER BY ${orderSql(plan.sort)} LIMIT ${limit}`,
          values: sql.values,
          rowMode: 'array',
          types: valueTypes,
        }),
      );
      const rows = result.rows.slice(0, plan.limit);
      const last = rows.at(-1);
      const more = result.rows.length > plan.limit && last !== undefined;
      return {
        rows: rows.map((row) => row.slice(1, -1)),
        next: more
          ? { rowId: last[0] as string, sortValue: (last.at(-1) as string | null) ?? null }
          : undefined,
      };
    },
  };
}

export type RowsRepository = ReturnType<typeof createRowsRepository>;
