import { describe, expect, it } from 'vitest';
import { column, sum, useProfileHarness } from './profile.test-data.ts';

describe('profiles of large tables', () => {
  const h = useProfileHarness();

  it('samples a large table: exact counts and ranges, estimated distinct values, histograms that sum to the count', async () => {
    const rows = 300_000;
    const large = await h.dataset(
      [
        { name: 'id', type: 'integer' },
        { name: 'grp', type: 'integer' },
        { name: 'cat', type: 'text' },
        { name: 'x', type: 'float' },
        { name: 'day', type: 'date' },
      ],
      {
        count: rows,
        expressions: [
          'i',
          'i % 1000',
          "'c' || (i % 5)",
          '(i % 10007) / 100.0',
          "date '2020-01-01' + (i % 365)",
        ],
      },
    );

    const profile = await h.profileOf(large);

    expect(profile).toMatchObject({ row_count: rows, sampled: true });
    expect(profile.sample_rows).toBeGreaterThan(45_000);
    expect(profile.sample_rows).toBeLessThan(55_000);
    const id = column(profile, 'id');
    expect(id).toMatchObject({
      count: rows,
      nulls: 0,
      min: 1,
      max: rows,
      mean: 150_000.5,
      distinct_approximate: true,
    });
    expect(id.stddev).toBeCloseTo(Math.sqrt((rows * (rows + 1)) / 12), 6);
    expect(id.distinct).toBeGreaterThan(rows * 0.95);
    expect(id.distinct).toBeLessThanOrEqual(rows);
    expect(id.quantiles?.p50).toBeGreaterThan(rows * 0.48);
    expect(id.quantiles?.p50).toBeLessThan(rows * 0.52);
    expect(sum(id.histogram)).toBe(rows);
    for (const bin of id.histogram ?? []) expect(Math.abs(bin.count - rows / 20)).toBeLessThan(rows / 200);
    expect(Math.abs(column(profile, 'grp').distinct - 1000)).toBeLessThan(50);
    expect(Math.abs(column(profile, 'x').distinct - 10_007)).toBeLessThan(500);
    expect(sum(column(profile, 'x').histogram)).toBe(rows);
    expect(sum(column(profile, 'day').histogram)).toBe(rows);
    const cat = column(profile, 'cat');
    expect(cat.distinct).toBe(5);
    expect(cat.top_values).toHaveLength(5);
    for (const top of cat.top_values ?? []) expect(Math.abs(top.count - rows / 5)).toBeLessThan(rows / 50);
  });
});
