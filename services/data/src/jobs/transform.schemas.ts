import { Type, type Static, type TProperties } from 'typebox';
import { OutputParams } from './job-output.ts';

const Column = Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$', description: 'A column name.' });
const DatasetRef = Type.String({ minLength: 1, maxLength: 100, description: 'A dataset, by name or id.' });
const Expression = Type.String({
  minLength: 1,
  maxLength: 10_000,
  description:
    "A SQL expression over the columns (`amount * 1.2`, `lower(city)`, `price > 10 AND region = 'north'`), checked like query SQL.",
});
const Seed = Type.Optional(
  Type.String({
    maxLength: 100,
    description: 'Changes which rows are picked; the same seed picks the same rows.',
  }),
);
const Fraction = Type.Number({ exclusiveMinimum: 0, maximum: 1 });

const step = <const O extends string, P extends TProperties>(op: O, props: P, description: string) =>
  Type.Object({ op: Type.Literal(op), ...props }, { additionalProperties: false, description });

export const FilterStep = step('filter', { where: Expression }, 'Keeps the rows where `where` is true.');
export const DeriveStep = step(
  'derive',
  { columns: Type.Record(Column, Expression, { minProperties: 1, maxProperties: 100 }) },
  'Adds (or replaces) columns computed from expressions.',
);
export const SelectStep = step(
  'select',
  {
    columns: Type.Array(Column, { minItems: 1, maxItems: 2000 }),
    rename: Type.Optional(Type.Record(Column, Column)),
  },
  'Keeps these columns, in this order, optionally renamed.',
);
export const JoinStep = step(
  'join',
  {
    dataset: DatasetRef,
    on: Type.Array(Type.Object({ left: Column, right: Column }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 20,
    }),
    how: Type.Optional(
      Type.Union([Type.Literal('inner'), Type.Literal('left'), Type.Literal('right'), Type.Literal('full')], {
        description: 'Default inner.',
      }),
    ),
    columns: Type.Optional(
      Type.Array(Column, {
        maxItems: 2000,
        description: 'Columns of the other dataset to keep; default all but the keys.',
      }),
    ),
    suffix: Type.Optional(
      Type.String({
        pattern: '^[a-z0-9_]{1,20}$',
        description: 'Added to kept columns whose name is taken (default `_right`).',
      }),
    ),
  },
  'Joins another dataset on equal keys.',
);
export const UnionStep = step(
  'union',
  {
    dataset: DatasetRef,
    distinct: Type.Optional(Type.Boolean({ description: 'Drop duplicate rows (default false: keep all).' })),
  },
  'Appends the rows of another dataset that has (at least) the same columns.',
);
export const PivotStep = step(
  'pivot',
  {
    index: Type.Array(Column, { maxItems: 100, description: 'Columns that identify an output row.' }),
    column: Column,
    value: Column,
    aggregate: Type.Union([
      Type.Literal('sum'),
      Type.Literal('count'),
      Type.Literal('avg'),
      Type.Literal('min'),
      Type.Literal('max'),
    ]),
    max_columns: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Default 100.' })),
  },
  'One output column per distinct value of `column`, holding the aggregate of `value`.',
);
export const SampleStep = step(
  'sample',
  {
    rows: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000_000 })),
    fraction: Type.Optional(Fraction),
    seed: Seed,
  },
  'A repeatable random sample: `rows` rows, or about `fraction` of them.',
);
export const SplitStep = step(
  'split',
  {
    train: Type.Number({
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      description: 'Share of rows labelled `train`.',
    }),
    seed: Seed,
    column: Type.Optional(Column),
    keep: Type.Optional(
      Type.Union([Type.Literal('train'), Type.Literal('test')], {
        description: 'Keep only this side instead of adding the label column.',
      }),
    ),
  },
  'A repeatable train/test split: labels each row `train` or `test` in `column` (default `split`).',
);
export const SortStep = step(
  'sort',
  {
    by: Type.Array(
      Type.Object(
        { column: Column, descending: Type.Optional(Type.Boolean()) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 20 },
    ),
  },
  'Orders the rows (the new dataset keeps that order).',
);

export const TransformStep = Type.Union([
  FilterStep,
  DeriveStep,
  SelectStep,
  JoinStep,
  UnionStep,
  PivotStep,
  SampleStep,
  SplitStep,
  SortStep,
]);
export type TransformStep = Static<typeof TransformStep>;

export const TransformParams = Type.Object(
  {
    dataset: DatasetRef,
    steps: Type.Array(TransformStep, { minItems: 1, maxItems: 50 }),
    ...OutputParams,
  },
  { additionalProperties: false },
);
export type TransformParams = Static<typeof TransformParams>;
