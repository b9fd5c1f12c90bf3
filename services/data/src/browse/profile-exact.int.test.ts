import { describe, expect, it } from 'vitest';
import { column, percentile, sum, useProfileHarness } from './profile.test-data.ts';

describe('profiles of large datasets', () => {
  const h = useProfileHarness();

  it('is exact over every row: distinct values, quantiles, top values and histograms', async () => {
    const rows = 300_000;
    const ids = Array.from({ length: rows }, (_, i) => i + 1);
    const dayOf = (i: number) => new Date(Date.UTC(2020, 0, 1 + (i % 365))).toISOString().slice(0, 10);
    const large = await h.dataset(
      [
        { name: 'id', type: 'integer' },
        { name: 'grp', type: 'integer' },
        { name: 'cat', type: 'text' },
        { name: 'x', type: 'float' },
        { name: 'day', type: 'date' },
      ],
      ids.map((i) => [i, i % 1000, `c${i % 5}`, (i % 10007) / 100, dayOf(i)]),
    );

    const profile = await h.profileOf(large);

    expect(profile).toMatchObject({ row_count: rows, sampled: false, sample_rows: null });
    const id = column(profile, 'id');
    expect(id).toMatchObject({
      count: rows,
      nulls: 0,
      distinct: rows,
      distinct_approximate: false,
      min: 1,
      max: rows,
      mean: 150_000.5,
      quantiles: {
        p25: percentile(ids, 0.25),
        p50: percentile(ids, 0.5),
        p75: percentile(ids, 0.75),
      },
    });
    expect(id.stddev).toBeCloseTo(Math.sqrt((rows * (rows + 1)) / 12), 6);
    const binOf = (i: number) => Math.min(Math.floor(((i - 1) * 20) / (rows - 1)), 19);
    const idBins = Array.from({ length: 20 }, (_, bin) => ids.filter((i) => binOf(i) === bin).length);
    expect(id.histogram?.map((bin) => bin.count)).toEqual(idBins);
    expect(column(profile, 'grp')).toMatchObject({ distinct: 1000, min: 0, max: 999 });
    expect(column(profile, 'x')).toMatchObject({ distinct: 10_007, min: 0, max: 100.06 });
    expect(sum(column(profile, 'x').histogram)).toBe(rows);
    expect(column(profile, 'day')).toMatchObject({ distinct: 365, min: '2020-01-01', max: '2020-12-30' });
    expect(sum(column(profile, 'day').histogram)).toBe(rows);
    expect(column(profile, 'cat')).toMatchObject({
      distinct: 5,
      top_values: ['c0', 'c1', 'c2', 'c3', 'c4'].map((value) => ({ value, count: rows / 5 })),
    });
  });
});
