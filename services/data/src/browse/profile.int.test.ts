import { describe, expect, it } from 'vitest';
import {
  SMALL_COLUMNS,
  column,
  mean,
  percentile,
  sampleStddev,
  smallRows,
  sum,
  useProfileHarness,
} from './profile.test-data.ts';

describe('dataset profiles', () => {
  const h = useProfileHarness();

  it('describes every column of a small table exactly', async () => {
    const profile = await h.profileOf(await h.dataset(SMALL_COLUMNS, smallRows));
    const numbers = [1, 2, 2, 3, 3, 3, 4, 10];
    const floats = [0.5, 1.5, 2.5, 2.5, 0, 4, 4, 0];

    expect(profile).toMatchObject({ version: 1, row_count: 10, sampled: false, sample_rows: null });
    expect(column(profile, 'n')).toMatchObject({
      original_name: 'N',
      type: 'integer',
      count: 8,
      nulls: 2,
      distinct: 5,
      distinct_approximate: false,
      min: 1,
      max: 10,
      top_values: [
        { value: 3, count: 3 },
        { value: 2, count: 2 },
        { value: 1, count: 1 },
        { value: 10, count: 1 },
        { value: 4, count: 1 },
      ],
    });
    const n = column(profile, 'n');
    expect(n.mean).toBeCloseTo(mean(numbers), 12);
    expect(n.stddev).toBeCloseTo(sampleStddev(numbers), 12);
    expect(n.quantiles).toEqual({
      p25: percentile(numbers, 0.25),
      p50: percentile(numbers, 0.5),
      p75: percentile(numbers, 0.75),
    });
    expect(n.histogram).toHaveLength(20);
    expect(n.histogram?.[0]).toEqual({ lower: 1, upper: 1.45, count: 1 });
    expect(n.histogram?.[19]?.lower).toBeCloseTo(9.55, 12);
    expect(n.histogram?.[19]?.upper).toBe(10);
    expect(n.histogram?.map((bin) => bin.count)).toEqual([
      1, 0, 2, 0, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    ]);

    const f = column(profile, 'f');
    // 0 and -0 are one value.
    expect(f).toMatchObject({ count: 8, nulls: 2, distinct: 5, min: 0, max: 4, top_values: null });
    expect(f.mean).toBeCloseTo(mean(floats), 12);
    expect(f.quantiles?.p75).toBeCloseTo(percentile(floats, 0.75), 12);
    expect(sum(f.histogram)).toBe(8);

    expect(column(profile, 't')).toMatchObject({
      count: 9,
      nulls: 1,
      distinct: 5,
      // Code-point order: capitals first.
      min: 'Z',
      max: 'c',
      mean: null,
      quantiles: null,
      histogram: null,
      top_values: [
        { value: 'b', count: 4 },
        { value: 'a', count: 2 },
        { value: 'Z', count: 1 },
        { value: 'Zoo', count: 1 },
        { value: 'c', count: 1 },
      ],
    });

    const d = column(profile, 'd');
    expect(d).toMatchObject({
      count: 7,
      nulls: 3,
      distinct: 4,
      min: '2024-01-01',
      max: '2024-01-31',
      top_values: null,
    });
    expect(d.histogram?.[0]).toEqual({
      lower: '2024-01-01T00:00:00.000Z',
      upper: '2024-01-02T12:00:00.000Z',
      count: 3,
    });
    expect(d.histogram?.[19]?.upper).toBe('2024-01-31T00:00:00.000Z');
    expect(d.histogram?.filter((bin) => bin.count > 0).map((bin) => bin.count)).toEqual([3, 2, 1, 1]);

    expect(column(profile, 'ts')).toMatchObject({
      count: 3,
      distinct: 1,
      min: '2024-05-06T07:08:09.123456Z',
      max: '2024-05-06T07:08:09.123456Z',
      histogram: [{ lower: '2024-05-06T07:08:09.123Z', upper: '2024-05-06T07:08:09.123Z', count: 3 }],
    });
    expect(column(profile, 'b')).toMatchObject({
      count: 8,
      distinct: 2,
      min: null,
      top_values: [
        { value: true, count: 6 },
        { value: false, count: 2 },
      ],
    });
    // {"a":1} written two ways is one value.
    expect(column(profile, 'j')).toMatchObject({
      count: 7,
      nulls: 3,
      distinct: 5,
      min: null,
      top_values: null,
      histogram: null,
    });
  });

  it('profiles an empty dataset as zeros', async () => {
    const empty = await h.dataset(SMALL_COLUMNS, []);
    const profile = await h.profileOf(empty);

    expect(profile.row_count).toBe(0);
    expect(column(profile, 'n')).toMatchObject({
      count: 0,
      nulls: 0,
      distinct: 0,
      min: null,
      mean: null,
      quantiles: { p25: null, p50: null, p75: null },
      top_values: [],
      histogram: [],
    });
  });

  it('works whatever the columns are called, even like the names its own SQL uses', async () => {
    // Names its SQL gives results, relations and aggregates, and the names PostgreSQL's SQL used to.
    const names = [
      'c',
      'v',
      'n',
      'r',
      'b',
      'x',
      'lo',
      'hi',
      's',
      'u',
      'rows',
      'seen',
      'kinds',
      'freq',
      'ranked',
      'n0',
      'min0',
      'd1',
      'q0',
      't0',
      'b0',
      'in_t0',
      'keyed',
      'counted',
      'row_count',
      'dataset_rows',
      'count',
      'value',
      'bin',
    ];
    const fixture = await h.dataset(
      names.map((name) => ({ name, type: 'integer' as const })),
      Array.from({ length: 40 }, (_, i) => names.map((_name, k) => (i + 1) % (k + 2))),
    );

    const profile = await h.profileOf(fixture);
    const rows = await h.get(`/api/v1/data/datasets/${fixture.id}/rows?sort=-b&filter=rows:ge:3&limit=5`);

    expect(profile.columns.map((c) => [c.name, c.distinct, sum(c.histogram)])).toEqual(
      names.map((name, k) => [name, Math.min(k + 2, 40), 40]),
    );
    expect(rows.statusCode).toBe(200);
    expect(rows.json<{ rows: number[][] }>().rows.map((row) => row[4])).toEqual([5, 5, 5, 5, 5]);
  });
});
