import { describe, expect, it } from 'vitest';
import { appendRows } from './browse.test-fixtures.ts';
import { SMALL_COLUMNS, column, smallRows, useProfileHarness } from './profile.test-data.ts';

describe('stored profiles', () => {
  const h = useProfileHarness();

  it("computes a version's profile once and reads it back after", async () => {
    const fixture = await h.dataset(SMALL_COLUMNS, { values: smallRows });
    const before = await h.profilesComputed();

    const first = await h.profileOf(fixture);
    const second = await h.profileOf(fixture);

    expect(await h.profilesComputed()).toBe(before + 1);
    expect(second).toEqual(first);
    expect(await h.storedVersions(fixture)).toEqual([1]);
  });

  it('computes it once when the first requests arrive together', async () => {
    const fixture = await h.dataset(SMALL_COLUMNS, { values: smallRows });
    const before = await h.profilesComputed();

    const profiles = await Promise.all(Array.from({ length: 6 }, () => h.profileOf(fixture)));

    expect(await h.profilesComputed()).toBe(before + 1);
    expect(new Set(profiles.map((p) => p.computed_at)).size).toBe(1);
  });

  it('computes afresh for a new version and forgets the old one', async () => {
    const fixture = await h.dataset(SMALL_COLUMNS, { values: smallRows });
    const first = await h.profileOf(fixture);
    const before = await h.profilesComputed();

    await appendRows(h.pool(), fixture, {
      count: 5,
      expressions: ['100', '1.0', "'new'", 'NULL::date', 'NULL::timestamptz', 'false', 'NULL::jsonb'],
    });
    const next = await h.profileOf(fixture);

    expect(await h.profilesComputed()).toBe(before + 1);
    expect(next).toMatchObject({ version: 2, row_count: 15 });
    expect(next.computed_at).not.toBe(first.computed_at);
    expect(column(next, 'n')).toMatchObject({ count: 13, max: 100, distinct: 6 });
    expect(column(next, 't').top_values?.[0]).toEqual({ value: 'new', count: 5 });
    expect(await h.storedVersions(fixture)).toEqual([2]);
  });
});
