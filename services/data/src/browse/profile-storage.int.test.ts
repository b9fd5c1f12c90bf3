import { describe, expect, it } from 'vitest';
import { queryOnce } from '../../../../test/processes.ts';
import { SMALL_COLUMNS, column, smallRows, useProfileHarness } from './profile.test-data.ts';

describe('stored profiles', () => {
  const h = useProfileHarness();

  it("computes a version's profile once and reads it back after", async () => {
    const fixture = await h.dataset(SMALL_COLUMNS, smallRows);
    const before = await h.profilesComputed();

    const first = await h.profileOf(fixture);
    const second = await h.profileOf(fixture);

    expect(await h.profilesComputed()).toBe(before + 1);
    expect(second).toEqual(first);
    expect(await h.storedVersions(fixture)).toEqual([1]);
  });

  it('computes it once when the first requests arrive together', async () => {
    const fixture = await h.dataset(SMALL_COLUMNS, smallRows);
    const before = await h.profilesComputed();

    const profiles = await Promise.all(Array.from({ length: 6 }, () => h.profileOf(fixture)));

    expect(await h.profilesComputed()).toBe(before + 1);
    expect(new Set(profiles.map((p) => p.computed_at)).size).toBe(1);
  });

  it('computes afresh for a new version and forgets the old one', async () => {
    const fixture = await h.dataset(SMALL_COLUMNS, smallRows);
    const first = await h.profileOf(fixture);
    const before = await h.profilesComputed();

    await h.browse().append(
      h.owner,
      fixture,
      Array.from({ length: 5 }, () => [100, 1, 'new', null, null, false, null]),
    );
    const next = await h.profileOf(fixture);

    expect(await h.profilesComputed()).toBe(before + 1);
    expect(next).toMatchObject({ version: 2, row_count: 15 });
    expect(next.computed_at).not.toBe(first.computed_at);
    expect(column(next, 'n')).toMatchObject({ count: 13, max: 100, distinct: 6 });
    expect(column(next, 't').top_values?.[0]).toEqual({ value: 'new', count: 5 });
    expect(await h.storedVersions(fixture)).toEqual([2]);
  });

  it('computes again, exactly, a profile stored when profiles were sampled', async () => {
    const fixture = await h.dataset(SMALL_COLUMNS, smallRows);
    const exact = await h.profileOf(fixture);
    // As the sampling profiler stored it: an estimate, marked sampled.
    expect(fixture.id).toMatch(/^[0-9a-f-]{36}$/);
    await queryOnce(
      h.browse().platform.databaseUrl,
      `UPDATE data.profiles SET profile = jsonb_set(jsonb_set(profile, '{sampled}', 'true'), '{columns,0,distinct}', '999')
       WHERE dataset_id = '${fixture.id}'`,
    );
    const before = await h.profilesComputed();

    const again = await h.profileOf(fixture);

    expect(await h.profilesComputed()).toBe(before + 1);
    expect(again).toMatchObject({ sampled: false, sample_rows: null });
    expect(again.columns).toEqual(exact.columns);
    expect(await h.storedVersions(fixture)).toEqual([1]);
  });
});
