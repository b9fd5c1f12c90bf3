import { AppError } from '@datalab/platform';
import type { ColumnType, DatasetColumn } from '../datasets/datasets.types.ts';
import { FILTER_OPS, type FilterOp, type RowsQuery } from './browse.schemas.ts';
import { EXPECTED, fitsType } from './column-values.ts';

/** A rows request checked against the dataset's columns: only known columns, values that fit. */

export interface RowSort {
  column: DatasetColumn;
  descending: boolean;
}

export interface RowFilter {
  column: DatasetColumn;
  op: FilterOp;
  /** None for is_null/not_null, one for the comparisons, one or more for `in`. */
  values: string[];
}

/** Where the previous page ended: its last row's sort value (DuckDB's text) and row number. */
export interface RowCursor {
  sortValue: string | null;
  /** The row's number in file order (the engine's `rowsRelation`), as decimal text. */
  rowId: string;
}

export interface RowsPlan {
  sort: RowSort | undefined;
  filters: RowFilter[];
  after: RowCursor | undefined;
  limit: number;
}

const NO_VALUE_OPS: ReadonlySet<FilterOp> = new Set(['is_null', 'not_null']);
// JSON compares as text, not in an order a person filtering would mean.
const ORDERED_TYPES: ReadonlySet<ColumnType> = new Set([
  'integer',
  'float',
  'boolean',
  'date',
  'timestamp',
  'text',
]);

function opsFor(type: ColumnType): ReadonlySet<FilterOp> {
  const ops = new Set<FilterOp>(['eq', 'ne', 'in', 'is_null', 'not_null']);
  if (ORDERED_TYPES.has(type)) for (const op of ['lt', 'le', 'gt', 'ge'] as const) ops.add(op);
  if (type === 'text') for (const op of ['contains', 'starts_with'] as const) ops.add(op);
  return ops;
}
const MAX_IN_VALUES = 1000;

/** A 400 naming the query parameter (and which of a repeated one) at fault. */
function invalid(parameter: string, message: string, index?: number): AppError {
  const field = `/querystring/${parameter}${index === undefined ? '' : `/${index}`}`;
  return new AppError('invalid', `Query parameter ${parameter}: ${message}`, {
    errors: [{ field, message }],
  });
}

function findColumn(columns: DatasetColumn[], name: string): DatasetColumn | undefined {
  return columns.find((column) => column.name === name.toLowerCase());
}

function parseSort(columns: DatasetColumn[], sort: string | undefined): RowSort | undefined {
  if (sort === undefined) return undefined;
  const descending = sort.startsWith('-');
  const name = descending ? sort.slice(1) : sort;
  const column = findColumn(columns, name);
  if (!column) throw invalid('sort', `unknown column "${name}"`);
  return { column, descending };
}

function parseFilter(columns: DatasetColumn[], text: string, index: number): RowFilter {
  const fail = (message: string) => invalid('filter', message, index);
  const [name = '', opText = '', ...rest] = text.split(':');
  // The value may itself hold colons (times, URLs): everything after the second one.
  const value = rest.length > 0 ? rest.join(':') : undefined;
  const column = findColumn(columns, name);
  if (!column) throw fail(`unknown column "${name}" in "${text}"`);
  const op = FILTER_OPS.find((candidate) => candidate === opText);
  if (!op) throw fail(`unknown operator "${opText}" in "${text}"; use one of ${FILTER_OPS.join(', ')}`);
  if (!opsFor(column.type).has(op)) {
    throw fail(`operator ${op} does not apply to ${column.type} column "${column.name}"`);
  }
  if (NO_VALUE_OPS.has(op)) {
    if (value) throw fail(`operator ${op} takes no value, as in "${column.name}:${op}"`);
    return { column, op, values: [] };
  }
  if (value === undefined) throw fail(`operator ${op} needs a value, as in "${column.name}:${op}:value"`);
  const values = op === 'in' ? value.split('|') : [value];
  if (values.length > MAX_IN_VALUES) throw fail(`at most ${MAX_IN_VALUES} values for in`);
  // contains/starts_with match text, whatever it holds.
  const typed = op !== 'contains' && op !== 'starts_with';
  const misfit = typed ? values.find((candidate) => !fitsType(column.type, candidate)) : undefined;
  if (misfit !== undefined) {
    throw fail(`"${misfit}" is not ${EXPECTED[column.type]} (column "${column.name}")`);
  }
  return { column, op, values };
}

interface EncodedCursor {
  /** The sort the cursor was made under: a cursor means nothing under another sort. */
  s: string | null;
  v: string | null;
  id: string;
}

export function encodeCursor(sort: RowSort | undefined, cursor: RowCursor): string {
  const encoded: EncodedCursor = { s: sortKey(sort), v: cursor.sortValue, id: cursor.rowId };
  return Buffer.from(JSON.stringify(encoded)).toString('base64url');
}

function sortKey(sort: RowSort | undefined): string | null {
  return sort ? `${sort.descending ? '-' : ''}${sort.column.name}` : null;
}

function decodeJson(text: string): unknown {
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

function isEncodedCursor(value: unknown): value is EncodedCursor {
  if (typeof value !== 'object' || value === null) return false;
  const { s, v, id } = value as Record<string, unknown>;
  return (
    (s === null || typeof s === 'string') &&
    (v === null || typeof v === 'string') &&
    typeof id === 'string' &&
    fitsType('integer', id)
  );
}

function parseCursor(sort: RowSort | undefined, after: string | undefined): RowCursor | undefined {
  if (after === undefined) return undefined;
  const decoded = decodeJson(after);
  if (!isEncodedCursor(decoded)) throw invalid('after', 'not a cursor this listing gave out');
  if (decoded.s !== sortKey(sort)) {
    throw invalid(
      'after',
      `the cursor belongs to ${decoded.s ? `sort=${decoded.s}` : 'the unsorted listing'}`,
    );
  }
  // Only a sorted listing's cursor carries a value, and it must be one of the sort column's type.
  const valueFits = decoded.v === null || (sort !== undefined && fitsType(sort.column.type, decoded.v));
  if (!valueFits) throw invalid('after', 'not a cursor this listing gave out');
  return { sortValue: decoded.v, rowId: decoded.id };
}

export function planRows(columns: DatasetColumn[], query: RowsQuery): RowsPlan {
  const sort = parseSort(columns, query.sort);
  const filters = (query.filter ?? []).map((text, i) => parseFilter(columns, text, i));
  return { sort, filters, after: parseCursor(sort, query.after), limit: query.limit };
}
