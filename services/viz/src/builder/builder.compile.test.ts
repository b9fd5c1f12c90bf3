import { describe, expect, it } from 'vitest';
import { AppError } from '@datalab/platform';
import { inferFieldTypes } from '../render/render.types.ts';
import { compileBuilder } from './builder.compile.ts';

const data = { values: [{ day: '2024-01-02', city: 'Lyon', rain: 3.5 }] };

describe('compiling a chart-builder chart to Vega-Lite', () => {
  it.each([
    ['bar', 'bar'],
    ['line', { type: 'line', point: false }],
    ['area', 'area'],
    ['scatter', 'point'],
    ['histogram', 'bar'],
    ['box', 'boxplot'],
    ['heatmap', 'rect'],
    ['pie', 'arc'],
  ] as const)('draws a %s chart with the %s mark', (type, mark) => {
    const spec = compileBuilder({ type, data, x: 'city', y: 'rain' });
    expect(spec.mark).toEqual(mark);
    expect(spec.data).toBe(data);
  });

  it('aggregates y, bins a histogram, facets and titles', () => {
    expect(
      compileBuilder({
        type: 'bar',
        data,
        x: 'city',
        y: 'rain',
        aggregate: 'mean',
        facet: 'day',
        title: 'T',
      }),
    ).toEqual({
      title: 'T',
      data,
      mark: 'bar',
      encoding: {
        x: { field: 'city' },
        y: { field: 'rain', type: 'quantitative', aggregate: 'mean' },
        facet: { field: 'day', type: 'nominal', columns: 3 },
      },
    });
    const histogram = compileBuilder({ type: 'histogram', data, x: 'rain', bin: { maxbins: 12 } });
    expect(histogram.encoding).toEqual({
      x: { field: 'rain', type: 'quantitative', bin: { maxbins: 12 } },
      y: { aggregate: 'count', type: 'quantitative' },
    });
  });

  it('counts when there is no y, and a pie slices by x sized by y', () => {
    expect(compileBuilder({ type: 'bar', data, x: 'city' }).encoding).toMatchObject({
      y: { aggregate: 'count' },
    });
    expect(compileBuilder({ type: 'pie', data, x: 'city', y: 'rain', aggregate: 'sum' }).encoding).toEqual({
      theta: { field: 'rain', type: 'quantitative', aggregate: 'sum' },
      color: { field: 'city', type: 'nominal' },
    });
  });

  it('keeps the type the caller gave over the chart type’s default', () => {
    const spec = compileBuilder({ type: 'scatter', data, x: { field: 'day', type: 'temporal' }, y: 'rain' });
    expect(spec.encoding).toMatchObject({ x: { field: 'day', type: 'temporal' } });
  });

  it('refuses a chart missing a field its type needs, naming it', () => {
    try {
      compileBuilder({ type: 'pie', data, y: 'rain' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).errors).toEqual([
        { field: '/body/chart/x', message: expect.stringContaining('required') as string },
      ]);
    }
  });

  it('guesses the types left out from the values: dates temporal, numbers quantitative, text nominal', () => {
    const spec = inferFieldTypes(compileBuilder({ type: 'line', data, x: 'day', y: 'rain', color: 'city' }));
    expect(spec.encoding).toMatchObject({
      x: { type: 'temporal' },
      y: { type: 'quantitative' },
      color: { type: 'nominal' },
    });
  });
});
