import { Type, type Static, type TSchema } from 'typebox';
import { DatasetColumnSchema } from '../datasets/datasets.schemas.ts';

export const FILTER_OPS = [
  'eq',
  'ne',
  'lt',
  'le',
  'gt',
  'ge',
  'contains',
  'starts_with',
  'is_null',
  'not_null',
  'in',
] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

export const RowsQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Rows per page.' }),
  sort: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 100,
      description:
        'A column name, ascending; `-name` for descending. Nulls come last either way; ties keep the dataset’s row order (reversed when descending). Text sorts by code point; JSON by its text.',
    }),
  ),
  after: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 4096,
      description: 'The `next` cursor of the previous page, with the same sort.',
    }),
  ),
  filter: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 10_000 }), {
      maxItems: 50,
      description: `Repeatable, all must hold: \`column:op:value\`, op one of ${FILTER_OPS.join(', ')}. \`in\` takes \`a|b|c\`; \`is_null\` and \`not_null\` take no value; \`contains\` and \`starts_with\` (text columns) ignore case; \`ne\` keeps nulls.`,
    }),
  ),
});
export type RowsQuery = Static<typeof RowsQuery>;

export const RowsPage = Type.Object({
  columns: Type.Array(DatasetColumnSchema),
  rows: Type.Array(Type.Array(Type.Unknown()), {
    description:
      'One array per row, values in column order. Integers beyond 2^53, NaN and infinities are strings; dates are YYYY-MM-DD; timestamps RFC 3339.',
  }),
  next: Type.Union([Type.String(), Type.Null()], {
    description: 'Pass as `after` for the following page; null on the last page.',
  }),
});
export type RowsPage = Static<typeof RowsPage>;

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Bound = Type.Union([Type.Number(), Type.String()], {
  description: 'A number, or an RFC 3339 timestamp (UTC) for dates and timestamps.',
});

export const ColumnProfile = Type.Object({
  name: Type.String(),
  original_name: Type.String(),
  type: Type.String(),
  count: Type.Integer({ description: 'Non-null values.' }),
  nulls: Type.Integer(),
  distinct: Type.Integer({ description: 'Distinct non-null values, counted exactly.' }),
  distinct_approximate: Type.Boolean({
    description: 'Always false: `distinct` is counted over every row (kept for clients that read it).',
  }),
  min: Type.Unknown({ description: 'Numbers, dates, timestamps and text (code-point order); else null.' }),
  max: Type.Unknown(),
  mean: Nullable(Type.Number()),
  stddev: Nullable(Type.Number({ description: 'Sample standard deviation.' })),
  quantiles: Nullable(
    Type.Object({ p25: Nullable(Type.Number()), p50: Nullable(Type.Number()), p75: Nullable(Type.Number()) }),
  ),
  top_values: Nullable(
    Type.Array(Type.Object({ value: Type.Unknown(), count: Type.Integer() }), {
      description: 'Up to 10 most frequent values (text, boolean, integer columns).',
    }),
  ),
  histogram: Nullable(
    Type.Array(Type.Object({ lower: Bound, upper: Bound, count: Type.Integer() }), {
      description: '20 equal-width bins from min to max (numbers, dates, timestamps); counts sum to `count`.',
    }),
  ),
});
export type ColumnProfile = Static<typeof ColumnProfile>;

export const DatasetProfile = Type.Object({
  dataset_id: Type.String({ format: 'uuid' }),
  version: Type.Integer({ description: 'The dataset version this profile describes.' }),
  computed_at: Type.String({ format: 'date-time' }),
  row_count: Type.Integer(),
  sampled: Type.Boolean({
    description:
      'Always false: every statistic covers every row of the version (kept for clients that read it; profiles stored before DuckDB may say true).',
  }),
  sample_rows: Nullable(Type.Integer({ description: 'Rows in the sample of a sampled profile; else null.' })),
  columns: Type.Array(ColumnProfile),
});
export type DatasetProfile = Static<typeof DatasetProfile>;
