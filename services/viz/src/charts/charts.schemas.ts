import { Type, type Static } from 'typebox';

export const Visibility = Type.Union([Type.Literal('private'), Type.Literal('shared')], {
  description: '`private`: the owner (and admins) only; `shared`: everyone may read it.',
});

const Title = Type.String({ minLength: 1, maxLength: 200 });
const Description = Type.String({ maxLength: 2000 });

/** Only "is an object" here: the rest (size, no URLs) is checked by charts.spec.ts, which the renderer shares. */
export const Spec = Type.Record(Type.String(), Type.Unknown(), {
  description: 'A Vega-Lite specification with its data inline: at most 256 KiB, no `url` keys.',
});

export const ChartSummary = Type.Object({
  id: Type.String({ format: 'uuid' }),
  owner_id: Type.String({ format: 'uuid' }),
  visibility: Visibility,
  title: Type.String(),
  description: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type ChartSummary = Static<typeof ChartSummary>;

export const Chart = Type.Intersect([ChartSummary, Type.Object({ spec: Spec })]);
export type Chart = Static<typeof Chart>;

export const CreateChartBody = Type.Object(
  {
    title: Title,
    description: Type.Optional(Description),
    visibility: Type.Optional(Visibility),
    spec: Spec,
  },
  { additionalProperties: false },
);
export type CreateChartBody = Static<typeof CreateChartBody>;

export const UpdateChartBody = Type.Object(
  {
    title: Type.Optional(Title),
    description: Type.Optional(Description),
    visibility: Type.Optional(Visibility),
    spec: Type.Optional(Spec),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateChartBody = Static<typeof UpdateChartBody>;

export const ChartIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const ListChartsQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
  owner: Type.Optional(Type.Literal('me', { description: '`me`: only the charts I own.' })),
});
export type ListChartsQuery = Static<typeof ListChartsQuery>;

/** Lists leave the specs out: each may be 256 KiB, and a page holds up to 500. */
export const ChartList = Type.Object({
  charts: Type.Array(ChartSummary),
  total: Type.Integer({ description: 'How many charts match, across all pages.' }),
});
export type ChartList = Static<typeof ChartList>;
