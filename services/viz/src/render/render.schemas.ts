import { Type, type Static } from 'typebox';
import { ChartBuilder } from '../builder/builder.schemas.ts';
import { Spec } from '../charts/charts.schemas.ts';

export const RENDER_FORMATS = ['svg', 'png', 'webp', 'avif', 'pdf', 'json'] as const;
export type RenderFormat = (typeof RENDER_FORMATS)[number];

const Size = (what: string) =>
  Type.Optional(
    Type.Integer({
      minimum: 16,
      maximum: 8192,
      description: `${what} in CSS pixels, axes and legends included. Default: the chart's own.`,
    }),
  );

const SizeFields = {
  width: Size('Width'),
  height: Size('Height'),
  scale: Type.Number({
    minimum: 0.1,
    maximum: 8,
    default: 1,
    description:
      'Pixel ratio: a PNG is (width × scale) × (height × scale) pixels; SVG and PDF sizes scale alike.',
  }),
};
export const SizeQuery = Type.Object(SizeFields);
export type SizeQuery = Static<typeof SizeQuery>;

export const RenderQuery = Type.Object({
  format: Type.Enum(RENDER_FORMATS, {
    default: 'png',
    description: '`json` answers the Vega-Lite spec with its data inline, for interactive rendering.',
  }),
  ...SizeFields,
});
export type RenderQuery = Static<typeof RenderQuery>;

export const RenderBody = Type.Object(
  {
    spec: Type.Optional(Spec),
    chart: Type.Optional(ChartBuilder),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
    description:
      'Either `spec`, a Vega-Lite spec whose `data` may be {"dataset": "<id or name>", "query": {…}} or {"sql": "…"}, or `chart`, a chart-builder description.',
  },
);
export type RenderBody = Static<typeof RenderBody>;

const binary = Type.String({ format: 'binary' });

/** One answer, several media types, chosen by `format` (or the path's extension). */
export const RenderAnswer = {
  description:
    'The rendered chart. ETag names this render (spec, data versions, format, size); send it back in If-None-Match for a 304.',
  content: {
    'image/png': { schema: binary },
    'image/svg+xml': { schema: Type.String() },
    'image/webp': { schema: binary },
    'image/avif': { schema: binary },
    'application/pdf': { schema: binary },
    'application/json': { schema: Spec },
  },
};

export const NotModified = Type.Null({
  description: 'Not modified: the If-None-Match ETag is still current.',
});
