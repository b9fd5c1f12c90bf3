import { Type, type Static } from 'typebox';

export const QUERY_FORMATS = ['json', 'csv', 'arrow', 'parquet'] as const;
export type QueryFormat = (typeof QUERY_FORMATS)[number];

export const QueryFormatSchema = Type.Enum(QUERY_FORMATS, {
  description:
    'Answer format; also chosen by Accept (application/json, text/csv, application/vnd.apache.arrow.stream, application/vnd.apache.parquet).',
});

const ColumnName = Type.String({ minLength: 1, maxLength: 63, description: 'A column of the dataset.' });
const OutputName = Type.String({ minLength: 1, maxLength: 63, description: 'Name of the answer column.' });

const SelectItem = Type.Union([
  ColumnName,
  Type.Object({ column: ColumnName, as: Type.Optional(OutputName) }, { additionalProperties: false }),
]);

export const FILTER_OPS = [
  '=',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'in',
  'not_in',
  'contains',
  'starts_with',
  'is_null',
  'not_null',
] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

type Scalar = string | number | boolean;
/**
 * One `type` list rather than a union: with type coercion on, AJV would turn
 * `5` or `true` into a string in the first branch of a union.
 */
const FilterValue = Type.Unsafe<Scalar | null | Scalar[]>({
  type: ['string', 'number', 'boolean', 'null', 'array'],
  items: { type: ['string', 'number', 'boolean'] },
  maxItems: 10_000,
  description: 'A scalar; a list for in / not_in; omitted for is_null / not_null.',
});

const Filter = Type.Object(
  { column: ColumnName, op: Type.Enum(FILTER_OPS), value: Type.Optional(FilterValue) },
  { additionalProperties: false },
);

export const AGGREGATE_FNS = ['count', 'sum', 'avg', 'min', 'max', 'count_distinct'] as const;
export type AggregateFn = (typeof AGGREGATE_FNS)[number];

const Aggregate = Type.Object(
  {
    fn: Type.Enum(AGGREGATE_FNS),
    column: Type.Optional(Type.String({ minLength: 1, maxLength: 63, description: 'Omitted for count(*).' })),
    as: OutputName,
  },
  { additionalProperties: false },
);

const OrderBy = Type.Object(
  {
    column: Type.String({
      minLength: 1,
      maxLength: 63,
      description: 'A dataset column or an answer column name.',
    }),
    direction: Type.Optional(Type.Enum(['asc', 'desc'])),
  },
  { additionalProperties: false },
);

export const StructuredQuery = Type.Object(
  {
    dataset: Type.String({ minLength: 1, maxLength: 100, description: 'Dataset id or name.' }),
    select: Type.Optional(Type.Array(SelectItem, { maxItems: 1000 })),
    filters: Type.Optional(Type.Array(Filter, { maxItems: 200, description: 'All must hold (AND).' })),
    group_by: Type.Optional(Type.Array(ColumnName, { maxItems: 100 })),
    aggregates: Type.Optional(Type.Array(Aggregate, { maxItems: 100 })),
    order_by: Type.Optional(Type.Array(OrderBy, { maxItems: 100 })),
    limit: Type.Optional(Type.Integer({ minimum: 0 })),
    offset: Type.Optional(Type.Integer({ minimum: 0 })),
    format: Type.Optional(QueryFormatSchema),
  },
  { additionalProperties: false, title: 'Structured query' },
);
export type StructuredQuery = Static<typeof StructuredQuery>;

export const SqlQuery = Type.Object(
  {
    sql: Type.String({
      minLength: 1,
      maxLength: 100_000,
      description: 'One read-only SELECT; datasets are referenced by name (SELECT … FROM sales).',
    }),
    format: Type.Optional(QueryFormatSchema),
  },
  { additionalProperties: false, title: 'SQL query' },
);
export type SqlQuery = Static<typeof SqlQuery>;

/**
 * A structured query or `{ sql }`. Chosen by the presence of `sql` (if/then/else)
 * rather than a union, so a mistake is reported against the kind of query the
 * caller meant, not against both.
 */
export const QueryBody = Type.Unsafe<StructuredQuery | SqlQuery>({
  description: 'Either a structured query or { "sql": "SELECT …" }, each with an optional format.',
  if: { type: 'object', required: ['sql'] },
  then: SqlQuery,
  else: StructuredQuery,
});
export type QueryBody = StructuredQuery | SqlQuery;

export const FormatQuerystring = Type.Object({ format: Type.Optional(QueryFormatSchema) });

export const ExportParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100, description: 'Dataset id or name.' }),
});

const ResultColumnSchema = Type.Object({
  name: Type.String(),
  type: Type.Enum(['integer', 'float', 'boolean', 'date', 'timestamp', 'text', 'json']),
});

export const QueryResult = Type.Object({
  columns: Type.Array(ResultColumnSchema),
  rows: Type.Array(Type.Array(Type.Unknown()), {
    description:
      'One array per row, in column order. Integers beyond 2^53 are strings; dates and timestamps ISO 8601.',
  }),
  row_count: Type.Integer(),
  truncated: Type.Boolean({
    description: 'More rows existed than QUERY_MAX_ROWS; only the first ones are here.',
  }),
});
