import { expect } from 'vitest';

/**
 * A small dataset whose profile is worked out by hand, and the check that a profile says exactly that.
 */

export interface ColumnProfile {
  name: string;
  type: string;
  top_values: { value: unknown; count: number }[] | null;
  histogram: { lower: number | string; upper: number | string; count: number }[] | null;
  [stat: string]: unknown;
}

export interface Profile {
  dataset_id: string;
  version: number;
  computed_at: string;
  row_count: number;
  sampled: boolean;
  sample_rows: number | null;
  columns: ColumnProfile[];
}

/** Seven rows whose statistics are worked out by hand below; bins are chosen so no value sits on an edge. */
export const SALES = [
  'region,n,x,day,at,ok',
  'north,0,-0.5,2024-01-01,2024-01-01T00:00:00Z,true',
  'south,5,0,2024-01-11,,true',
  'north,5,1,,,false',
  'east,15,2.5,2024-01-21,2024-01-01T00:00:20Z,true',
  'north,40,2.5,2024-01-11,,false',
  'south,,7.5,,,true',
  ',,,,,',
].join('\n');

const DAY = 86_400_000;
const JAN_1 = Date.UTC(2024, 0, 1);

/** `count` values in bin `i` of 20, as `[i, count]` pairs; every other bin is empty. */
function bins(filled: [number, number][]): number[] {
  const counts = Array.from({ length: 20 }, () => 0);
  for (const [bin, count] of filled) counts[bin] = count;
  return counts;
}

/** A histogram as numbers (bounds of dates and timestamps as epoch milliseconds), rounded past float noise. */
function histogramOf(column: ColumnProfile | undefined) {
  return column?.histogram?.map(({ lower, upper, count }) => ({
    lower: round(typeof lower === 'string' ? Date.parse(lower) : lower),
    upper: round(typeof upper === 'string' ? Date.parse(upper) : upper),
    count,
  }));
}

export const round = (value: number): number => Number(value.toPrecision(12));

/** 20 equal bins from `low` to `high` holding `counts`. */
function equalBins(low: number, high: number, counts: number[]) {
  const width = (high - low) / 20;
  return counts.map((count, i) => ({
    lower: round(low + i * width),
    upper: round(i === 19 ? high : low + (i + 1) * width),
    count,
  }));
}

/** The statistics of a column without its histogram, numbers rounded past float noise. */
export function statsOf(column: ColumnProfile | undefined) {
  if (!column) return undefined;
  const stats: Record<string, unknown> = { ...column };
  delete stats.histogram;
  return JSON.parse(JSON.stringify(stats), (_key, value: unknown) =>
    typeof value === 'number' ? round(value) : value,
  ) as Record<string, unknown>;
}

/** A column of a profile, by name. */
export const column = (profile: Profile, name: string): ColumnProfile | undefined =>
  profile.columns.find((c) => c.name === name);

/** The columns of SALES, as a profile must describe them. */
export function expectSalesColumns(profile: Profile): void {
  expect(profile.columns.map((c) => [c.name, c.type])).toEqual([
    ['region', 'text'],
    ['n', 'integer'],
    ['x', 'float'],
    ['day', 'date'],
    ['at', 'timestamp'],
    ['ok', 'boolean'],
  ]);
  const none = { mean: null, stddev: null, quantiles: null, distinct_approximate: false };
  expect(statsOf(column(profile, 'region'))).toEqual({
    ...none,
    name: 'region',
    original_name: 'region',
    type: 'text',
    count: 6,
    nulls: 1,
    distinct: 3,
    min: 'east',
    max: 'south',
    top_values: [
      { value: 'north', count: 3 },
      { value: 'south', count: 2 },
      { value: 'east', count: 1 },
    ],
  });
  expect(column(profile, 'region')?.histogram).toBeNull();

  const n = statsOf(column(profile, 'n'))!;
  const top = n.top_values as { value: number; count: number }[];
  expect({ ...n, top_values: [top[0], ...top.slice(1).sort((a, b) => a.value - b.value)] }).toEqual({
    name: 'n',
    original_name: 'n',
    type: 'integer',
    count: 5,
    nulls: 2,
    distinct: 4,
    distinct_approximate: false,
    min: 0,
    max: 40,
    mean: 13,
    stddev: round(16.046806535881213),
    quantiles: { p25: 5, p50: 5, p75: 15 },
    top_values: [
      { value: 5, count: 2 },
      { value: 0, count: 1 },
      { value: 15, count: 1 },
      { value: 40, count: 1 },
    ],
  });
  expect(histogramOf(column(profile, 'n'))).toEqual(
    equalBins(
      0,
      40,
      bins([
        [0, 1],
        [2, 2],
        [7, 1],
        [19, 1],
      ]),
    ),
  );

  expect(statsOf(column(profile, 'x'))).toEqual({
    name: 'x',
    original_name: 'x',
    type: 'float',
    count: 6,
    nulls: 1,
    distinct: 5,
    distinct_approximate: false,
    min: -0.5,
    max: 7.5,
    mean: round(13 / 6),
    stddev: round(2.8925190866555517),
    quantiles: { p25: 0.25, p50: 1.75, p75: 2.5 },
    top_values: null,
  });
  expect(histogramOf(column(profile, 'x'))).toEqual(
    equalBins(
      -0.5,
      7.5,
      bins([
        [0, 1],
        [1, 1],
        [3, 1],
        [7, 2],
        [19, 1],
      ]),
    ),
  );

  expect(statsOf(column(profile, 'day'))).toEqual({
    ...none,
    name: 'day',
    original_name: 'day',
    type: 'date',
    count: 4,
    nulls: 3,
    distinct: 3,
    min: '2024-01-01',
    max: '2024-01-21',
    top_values: null,
  });
  expect(histogramOf(column(profile, 'day'))).toEqual(
    equalBins(
      JAN_1,
      JAN_1 + 20 * DAY,
      bins([
        [0, 1],
        [10, 2],
        [19, 1],
      ]),
    ),
  );

  const at = statsOf(column(profile, 'at'))!;
  expect({ ...at, min: Date.parse(at.min as string), max: Date.parse(at.max as string) }).toEqual({
    ...none,
    name: 'at',
    original_name: 'at',
    type: 'timestamp',
    count: 2,
    nulls: 5,
    distinct: 2,
    min: JAN_1,
    max: JAN_1 + 20_000,
    top_values: null,
  });
  expect(histogramOf(column(profile, 'at'))).toEqual(
    equalBins(
      JAN_1,
      JAN_1 + 20_000,
      bins([
        [0, 1],
        [19, 1],
      ]),
    ),
  );

  expect(statsOf(column(profile, 'ok'))).toEqual({
    ...none,
    name: 'ok',
    original_name: 'ok',
    type: 'boolean',
    count: 6,
    nulls: 1,
    distinct: 2,
    min: null,
    max: null,
    top_values: [
      { value: true, count: 4 },
      { value: false, count: 2 },
    ],
  });
  expect(column(profile, 'ok')?.histogram).toBeNull();
}
