import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { person } from '../../../../test/internal.ts';
import type { DatasetProfile } from '../browse/browse.schemas.ts';
import { runJob, startDataJobs, uploadCsv, type DataJobs } from './jobs.test-fixtures.ts';

let jobs: DataJobs;
const owner = person('editor');
let dataset: { id: string; name: string };

/** Column n of row i: repeats, negative numbers, and every 17th empty. */
const nOf = (i: number): string => (i % 17 === 0 ? '' : String(((i * 7919) % 613) - 300));

/** Rows with repeats, nulls, negative and fractional numbers, dates, timestamps and non-ASCII text. */
function csv(rows: number): string {
  const lines = ['n,score,city,flag,day,seen'];
  const cities = ['Oslo', 'Zürich', 'Åre', 'bergen', 'Ōsaka', 'Lima'];
  for (let i = 1; i <= rows; i++) {
    const n = nOf(i);
    const score = i % 11 === 0 ? '' : (((i * 37) % 1000) / 7.3 - 40).toFixed(3);
    const city = i % 13 === 0 ? '' : cities[(i * i) % cities.length]!;
    const flag = i % 5 === 0 ? 'true' : 'false';
    const day = `2024-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`;
    const seen = `2024-03-01T${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}Z`;
    lines.push([n, score, city, flag, day, seen].join(','));
  }
  return `${lines.join('\n')}\n`;
}

beforeAll(async () => {
  jobs = await startDataJobs();
  dataset = await uploadCsv(jobs, owner, csv(3000));
});
afterAll(async () => jobs?.close());

/** The profile without the moment it was computed, means and deviations rounded past float noise. */
function comparable(profile: Omit<DatasetProfile, 'computed_at'> & { computed_at?: string }) {
  const rest = { ...profile };
  delete rest.computed_at;
  const round = (x: number | null) => (x === null ? null : Number(x.toPrecision(12)));
  return {
    ...rest,
    columns: rest.columns.map((c) => ({ ...c, mean: round(c.mean), stddev: round(c.stddev) })),
  };
}

describe('the profile job', () => {
  it('computes the exact profile of the current version and stores it as the one GET serves', async () => {
    const job = await runJob(jobs, owner, 'profile', { dataset: dataset.name }, 60_000);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const result = job.result as { profile: DatasetProfile; stored: boolean; url: string };
    expect(result).toMatchObject({ stored: true, url: `/api/v1/data/datasets/${dataset.id}/profile` });
    expect(result.profile).toMatchObject({ version: 1, row_count: 3000, sampled: false, sample_rows: null });
    // Not trivially equal: every kind of statistic is there.
    const n = result.profile.columns.find((c) => c.name === 'n')!;
    expect(n.quantiles?.p50).not.toBeNull();
    expect(n.top_values?.length).toBe(10);
    expect(n.histogram?.reduce((sum, bin) => sum + bin.count, 0)).toBe(n.count);
    expect(n.nulls).toBe(Math.floor(3000 / 17));
    expect(n.distinct).toBe(new Set(Array.from({ length: 3000 }, (_, i) => nOf(i + 1)).filter(Boolean)).size);

    const served = await jobs.call<DatasetProfile>(
      owner,
      jobs.data,
      'GET',
      `/api/v1/data/datasets/${dataset.id}/profile`,
    );
    expect(served.status).toBe(200);
    expect(comparable(served.body)).toEqual(comparable(result.profile));
  });

  it('still takes `partitions`, which no longer changes the profile', async () => {
    const one = await runJob(jobs, owner, 'profile', { dataset: dataset.id, partitions: 1 }, 60_000);
    const seven = await runJob(jobs, owner, 'profile', { dataset: dataset.id, partitions: 7 }, 60_000);
    expect(one.state).toBe('succeeded');
    expect(seven.state).toBe('succeeded');
    const profileOf = (job: typeof one) => comparable((job.result as { profile: DatasetProfile }).profile);
    expect(profileOf(seven)).toEqual(profileOf(one));
  });

  it("cannot profile another user's private dataset", async () => {
    const job = await runJob(jobs, person('editor'), 'profile', { dataset: dataset.id });
    expect(job.state).toBe('failed');
    expect(job.error?.message).toMatch(/not found/);
  });
});
