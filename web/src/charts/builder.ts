import type { ColumnType, DatasetColumn } from '../api/types.ts';

export const CHART_TYPES = ['bar', 'line', 'area', 'point', 'arc'] as const;
export type ChartType = (typeof CHART_TYPES)[number];
export const AGGREGATES = ['sum', 'avg', 'min', 'max', 'count'] as const;
export type Aggregate = (typeof AGGREGATES)[number] | 'none';

/** What the chart builder's form holds; kept in the saved spec's `usermeta` so a chart reopens in the form. */
export interface BuilderState {
  dataset: string;
  type: ChartType;
  x: string;
  y: string;
  aggregate: Aggregate;
  color: string;
  title: string;
}

const MAX_POINTS = 5000;

function fieldType(type: ColumnType | undefined): 'quantitative' | 'temporal' | 'nominal' {
  if (type === 'integer' || type === 'float') return 'quantitative';
  if (type === 'date' || type === 'timestamp') return 'temporal';
  return 'nominal';
}

/** The structured query that feeds the chart: grouped and aggregated, or the raw points. */
export function queryFor(state: BuilderState): Record<string, unknown> {
  const groups = [state.x, ...(state.color ? [state.color] : [])];
  if (state.aggregate !== 'none') {
    const aggregate =
      state.aggregate === 'count'
        ? { fn: 'count', as: 'value' }
        : { fn: state.aggregate, column: state.y, as: 'value' };
    return { group_by: groups, aggregates: [aggregate], order_by: [{ column: state.x }], limit: MAX_POINTS };
  }
  return { select: [...new Set([...groups, state.y])], limit: MAX_POINTS };
}

/** The Vega-Lite spec, its data a DataLab query the viz-service (or the browser) resolves as the viewer. */
export function specFor(state: BuilderState, columns: DatasetColumn[]): Record<string, unknown> {
  const typeOf = (name: string) => columns.find((column) => column.name === name)?.type;
  const yField = state.aggregate === 'none' ? state.y : 'value';
  const yTitle =
    state.aggregate === 'none'
      ? state.y
      : state.aggregate === 'count'
        ? 'count'
        : `${state.aggregate} of ${state.y}`;
  const xType =
    state.type === 'bar' && fieldType(typeOf(state.x)) === 'quantitative'
      ? 'ordinal'
      : fieldType(typeOf(state.x));
  const color = state.color ? { color: { field: state.color, type: 'nominal' } } : {};
  const encoding =
    state.type === 'arc'
      ? {
          theta: { field: yField, type: 'quantitative', title: yTitle },
          color: { field: state.x, type: 'nominal' },
        }
      : {
          x: { field: state.x, type: xType },
          y: { field: yField, type: 'quantitative', title: yTitle },
          ...color,
        };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(state.title ? { title: state.title } : {}),
    width: 'container',
    height: 320,
    data: { dataset: state.dataset, query: queryFor(state) },
    mark: { type: state.type, tooltip: true },
    encoding,
    usermeta: { datalab_builder: state },
  };
}

export function builderStateOf(spec: Record<string, unknown>): BuilderState | undefined {
  const meta = spec.usermeta as { datalab_builder?: BuilderState } | undefined;
  return meta?.datalab_builder;
}
