import { Type, type Static } from 'typebox';

export const CHART_TYPES = ['bar', 'line', 'area', 'scatter', 'histogram', 'box', 'heatmap', 'pie'] as const;
export const FIELD_TYPES = ['quantitative', 'nominal', 'ordinal', 'temporal'] as const;
export const BUILDER_AGGREGATES = ['count', 'sum', 'mean', 'median', 'min', 'max', 'distinct'] as const;

const FieldName = Type.String({ minLength: 1, maxLength: 200, description: 'A column of the data.' });

export const BuilderField = Type.Union([
  FieldName,
  Type.Object(
    {
      field: FieldName,
      type: Type.Optional(Type.Enum(FIELD_TYPES, { description: 'Default: guessed from the values.' })),
      title: Type.Optional(Type.String({ maxLength: 200 })),
    },
    { additionalProperties: false },
  ),
]);
export type BuilderField = Static<typeof BuilderField>;

export const ChartBuilder = Type.Object(
  {
    type: Type.Enum(CHART_TYPES),
    data: Type.Record(Type.String(), Type.Unknown(), {
      description:
        '{"dataset": "<id or name>", "query": {…structured query…}}, {"sql": "SELECT …"} or {"values": [...]}.',
    }),
    x: Type.Optional(BuilderField),
    y: Type.Optional(BuilderField),
    color: Type.Optional(BuilderField),
    facet: Type.Optional(BuilderField),
    aggregate: Type.Optional(
      Type.Enum(BUILDER_AGGREGATES, {
        description: 'Applied to y (the size for pie, the color for heatmap); count needs no field.',
      }),
    ),
    bin: Type.Optional(
      Type.Union([Type.Boolean(), Type.Object({ maxbins: Type.Integer({ minimum: 2, maximum: 200 }) })], {
        description: 'Bin x (histograms always do).',
      }),
    ),
    title: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false, description: 'A chart described for people who do not write Vega-Lite.' },
);
export type ChartBuilder = Static<typeof ChartBuilder>;
