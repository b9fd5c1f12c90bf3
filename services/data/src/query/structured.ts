import { AppError } from '@datalab/platform';
import {
  ROW_ID_COLUMN,
  qualifiedTable,
  quoteIdent,
  type ColumnType,
  type Dataset,
  type DatasetColumn,
} from '../datasets/datasets.types.ts';
import type { Statement } from './executor.ts';
import type { FilterOp, StructuredQuery } from './query.schemas.ts';

/**
 * Compiles a structured query to SQL over the dataset's table. Identifiers
 * come only from the dataset's own column list (quoted); every value the
 * caller sent travels as a `$n` parameter, never as SQL text.
 */

type Filter = NonNullable<StructuredQuery['filters']>[number];
type Aggregate = NonNullable<StructuredQuery['aggregates']>[number];

function invalid(field: string, message: string): AppError {
  return new AppError('invalid', `${field}: ${message}`, { errors: [{ field, message }] });
}

const NUMERIC: ReadonlySet<ColumnType> = new Set(['integer', 'float']);
const COMPARISONS: Partial<Record<FilterOp, string>> = {
  '=': '=',
  '!=': '<>',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};

function checkValue(column: DatasetColumn, value: unknown, field: string): string | number | boolean {
  const ok = (() => {
    switch (column.type) {
      case 'integer':
        return Number.isSafeInteger(value) || (typeof value === 'string' && /^-?\d+$/.test(value));
      case 'float':
        return (
          (typeof value === 'number' && Number.isFinite(value)) ||
          (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
        );
      case 'boolean':
        return typeof value === 'boolean';
      case 'date':
      case 'timestamp':
        return typeof value === 'string' && !Number.isNaN(Date.parse(value));
      case 'text':
        return typeof value === 'string' || typeof value === 'number';
      case 'json':
        return false;
    }
  })();
  if (!ok) throw invalid(field, `is not a valid ${column.type} value for column "${column.name}"`);
  return value as string | number | boolean;
}

type ColumnLookup = (name: string, field: string) => DatasetColumn;

interface Output {
  sql: string;
  /** The answer column's name. */
  output: string;
}

export function compileStructured(query: StructuredQuery, dataset: Dataset): Statement {
  const byName = new Map(dataset.columns.map((column) => [column.name, column]));
  const column: ColumnLookup = (name, field) => {
    const found = byName.get(name);
    if (!found) throw invalid(field, `dataset "${dataset.name}" has no column "${name}"`);
    return found;
  };
  const values: unknown[] = [];
  const param = (value: unknown): string => `$${values.push(value)}`;

  const conditions = (query.filters ?? []).map((filter, i) =>
    compileFilter(filter, `/body/filters/${i}`, column, param),
  );
  const groupBy = (query.group_by ?? []).map((name, i) => column(name, `/body/group_by/${i}`).name);
  const aggregates = (query.aggregates ?? []).map((aggregate, i) =>
    compileAggregate(aggregate, `/body/aggregates/${i}`, column),
  );
  const outputs = selectList(query, dataset, groupBy, aggregates, column);
  const order = orderBy(query, dataset, groupBy, aggregates.length > 0, outputs);

  const clauses = [
    `SELECT ${outputs.map((output) => output.sql).join(', ')} FROM ${qualifiedTable(dataset)}`,
    conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '',
    groupBy.length > 0 ? `GROUP BY ${groupBy.map(quoteIdent).join(', ')}` : '',
    order.length > 0 ? `ORDER BY ${order.join(', ')}` : '',
    query.limit !== undefined ? `LIMIT ${param(query.limit)}` : '',
    query.offset !== undefined ? `OFFSET ${param(query.offset)}` : '',
  ];
  return { text: clauses.filter(Boolean).join(' '), values };
}

/** Selected columns then aggregates; beside aggregates only grouped columns may be selected. */
function selectList(
  query: StructuredQuery,
  dataset: Dataset,
  groupBy: string[],
  aggregates: Output[],
  column: ColumnLookup,
): Output[] {
  const grouped = groupBy.length > 0 || aggregates.length > 0;
  const defaults = grouped ? groupBy : dataset.columns.map((c) => c.name);
  const selected = (query.select ?? defaults).map((item, i): Output => {
    const spec = typeof item === 'string' ? { column: item } : item;
    const field = `/body/select/${i}`;
    const name = column(spec.column, typeof item === 'string' ? field : `${field}/column`).name;
    if (grouped && !groupBy.includes(name)) {
      throw invalid(field, `column "${name}" must be in group_by to be selected beside aggregates`);
    }
    const sql = spec.as ? `${quoteIdent(name)} AS ${quoteIdent(spec.as)}` : quoteIdent(name);
    return { sql, output: spec.as ?? name };
  });
  const outputs = [...selected, ...aggregates];
  if (outputs.length === 0) throw invalid('/body/select', 'select at least one column or aggregate');
  const seen = new Set<string>();
  outputs.forEach((output, i) => {
    if (seen.has(output.output)) {
      const field = i < selected.length ? `/body/select/${i}` : `/body/aggregates/${i - selected.length}/as`;
      throw invalid(field, `the answer already has a column "${output.output}"`);
    }
    seen.add(output.output);
  });
  return outputs;
}

/** By answer columns or, when not aggregating, any dataset column; by default a stable order. */
function orderBy(
  query: StructuredQuery,
  dataset: Dataset,
  groupBy: string[],
  aggregating: boolean,
  outputs: Output[],
): string[] {
  const grouped = aggregating || groupBy.length > 0;
  const answerNames = new Set(outputs.map((output) => output.output));
  const order = (query.order_by ?? []).map((item, i) => {
    const name = item.column;
    const known = answerNames.has(name) || groupBy.includes(name);
    if (!known && grouped) {
      throw invalid(
        `/body/order_by/${i}/column`,
        `order by an answer column or a group_by column, not "${name}"`,
      );
    }
    if (!known && !dataset.columns.some((c) => c.name === name)) {
      throw invalid(`/body/order_by/${i}/column`, `dataset "${dataset.name}" has no column "${name}"`);
    }
    return `${quoteIdent(name)} ${item.direction === 'desc' ? 'DESC' : 'ASC'}`;
  });
  if (order.length > 0) return order;
  // Without an order the answer would differ between runs: rows in arrival order, groups by their keys.
  return grouped ? groupBy.map(quoteIdent) : [quoteIdent(ROW_ID_COLUMN)];
}

function compileFilter(
  filter: Filter,
  field: string,
  column: ColumnLookup,
  param: (value: unknown) => string,
): string {
  const target = column(filter.column, `${field}/column`);
  const name = quoteIdent(target.name);
  const { op, value } = filter;
  if (op === 'is_null' || op === 'not_null') {
    if (value !== undefined && value !== null) throw invalid(`${field}/value`, `${op} takes no value`);
    return `${name} IS ${op === 'is_null' ? '' : 'NOT '}NULL`;
  }
  if (op === 'contains' || op === 'starts_with') {
    if (typeof value !== 'string') throw invalid(`${field}/value`, `${op} needs a text value`);
    return op === 'contains'
      ? `strpos(${name}::text, ${param(value)}) > 0`
      : `starts_with(${name}::text, ${param(value)})`;
  }
  if (target.type === 'json')
    throw invalid(
      `${field}/op`,
      `a json column can only be filtered with is_null, not_null, contains or starts_with`,
    );
  if (op === 'in' || op === 'not_in') {
    if (!Array.isArray(value)) throw invalid(`${field}/value`, `${op} needs a list of values`);
    const list = value.map((item, j) => checkValue(target, item, `${field}/value/${j}`));
    return op === 'in' ? `${name} = ANY(${param(list)})` : `${name} <> ALL(${param(list)})`;
  }
  if (value === undefined || value === null || Array.isArray(value)) {
    throw invalid(`${field}/value`, `${op} needs one value (use is_null / not_null for missing values)`);
  }
  return `${name} ${COMPARISONS[op]} ${param(checkValue(target, value, `${field}/value`))}`;
}

function compileAggregate(aggregate: Aggregate, field: string, column: ColumnLookup): Output {
  const as = quoteIdent(aggregate.as);
  if (aggregate.column === undefined) {
    if (aggregate.fn !== 'count') throw invalid(`${field}/column`, `${aggregate.fn} needs a column`);
    return { sql: `count(*) AS ${as}`, output: aggregate.as };
  }
  const target = column(aggregate.column, `${field}/column`);
  const name = quoteIdent(target.name);
  if ((aggregate.fn === 'sum' || aggregate.fn === 'avg') && !NUMERIC.has(target.type)) {
    throw invalid(
      `${field}/column`,
      `${aggregate.fn} needs a numeric column; "${target.name}" is ${target.type}`,
    );
  }
  if (
    (aggregate.fn === 'min' || aggregate.fn === 'max') &&
    (target.type === 'boolean' || target.type === 'json')
  ) {
    throw invalid(
      `${field}/column`,
      `${aggregate.fn} is not defined for ${target.type} column "${target.name}"`,
    );
  }
  const call = aggregate.fn === 'count_distinct' ? `count(DISTINCT ${name})` : `${aggregate.fn}(${name})`;
  return { sql: `${call} AS ${as}`, output: aggregate.as };
}
