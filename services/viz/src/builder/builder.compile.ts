import { AppError } from '@datalab/platform';
import type { ChartSpec } from '../charts/charts.spec.ts';
import type { BuilderField, ChartBuilder } from './builder.schemas.ts';

type Channel = Record<string, unknown>;

function channel(field: BuilderField | undefined, extra: Channel = {}): Channel | undefined {
  if (field === undefined) return undefined;
  const def = typeof field === 'string' ? { field } : { ...field };
  // What the caller said about the field wins over the chart type's default.
  return { ...extra, ...def };
}

function required(builder: ChartBuilder, name: 'x' | 'y' | 'color', why: string): BuilderField {
  const field = builder[name];
  if (field === undefined)
    throw new AppError('invalid', `A ${builder.type} chart needs ${name}: ${why}`, {
      errors: [{ field: `/body/chart/${name}`, message: `is required for a ${builder.type} chart (${why})` }],
    });
  return field;
}

/** The y channel: aggregated when asked, a count when there is no y at all. */
function measure(builder: ChartBuilder, field: BuilderField | undefined): Channel {
  if (field === undefined || builder.aggregate === 'count')
    return { aggregate: 'count', type: 'quantitative' };
  return channel(field, {
    type: 'quantitative',
    ...(builder.aggregate ? { aggregate: builder.aggregate } : {}),
  })!;
}

function binned(builder: ChartBuilder): Channel {
  return typeof builder.bin === 'object' ? { bin: builder.bin } : builder.bin ? { bin: true } : {};
}

function encodingOf(builder: ChartBuilder): { mark: unknown; encoding: Record<string, Channel | undefined> } {
  const color = channel(builder.color);
  switch (builder.type) {
    case 'bar':
    case 'line':
    case 'area':
      return {
        mark: builder.type === 'line' ? { type: 'line', point: false } : builder.type,
        encoding: {
          x: channel(required(builder, 'x', 'the categories or times'), binned(builder)),
          y: measure(builder, builder.y),
          color,
        },
      };
    case 'scatter':
      return {
        mark: 'point',
        encoding: {
          x: channel(required(builder, 'x', 'a numeric column'), {
            type: 'quantitative',
            ...binned(builder),
          }),
          y: channel(required(builder, 'y', 'a numeric column'), { type: 'quantitative' }),
          color,
        },
      };
    case 'histogram':
      return {
        mark: 'bar',
        encoding: {
          x: channel(required(builder, 'x', 'the numeric column to bin'), {
            type: 'quantitative',
            bin: typeof builder.bin === 'object' ? builder.bin : { maxbins: 30 },
          }),
          y: { aggregate: 'count', type: 'quantitative' },
          color,
        },
      };
    case 'box':
      return {
        mark: 'boxplot',
        encoding: {
          x: channel(required(builder, 'x', 'the groups'), { type: 'nominal' }),
          y: channel(required(builder, 'y', 'a numeric column'), { type: 'quantitative' }),
          color,
        },
      };
    case 'heatmap':
      return {
        mark: 'rect',
        encoding: {
          x: channel(required(builder, 'x', 'the columns of the grid'), {
            type: 'ordinal',
            ...binned(builder),
          }),
          y: channel(required(builder, 'y', 'the rows of the grid'), { type: 'ordinal' }),
          color: measure(builder, builder.color),
        },
      };
    case 'pie':
      return {
        mark: 'arc',
        encoding: {
          theta: measure(builder, builder.y),
          color: channel(required(builder, 'x', 'the slices'), { type: 'nominal' }),
        },
      };
  }
}

/** The Vega-Lite spec of a builder chart; field types left out are guessed from the data later. */
export function compileBuilder(builder: ChartBuilder): ChartSpec {
  const { mark, encoding } = encodingOf(builder);
  const facet = channel(builder.facet, { type: 'nominal', columns: 3 });
  const defined = Object.fromEntries(
    Object.entries({ ...encoding, facet }).filter((entry) => entry[1] !== undefined),
  );
  return {
    ...(builder.title ? { title: builder.title } : {}),
    data: builder.data,
    mark,
    encoding: defined,
  };
}
