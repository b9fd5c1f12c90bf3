import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { person } from '../../../../test/internal.ts';
import type { DatasetProfile } from '../browse/browse.schemas.ts';
import { JOBS, runJob, startDataJobs, uploadCsv, type DataJobs } from './jobs.test-fixtures.ts';

let jobs: DataJobs;
const owner = person('editor');
let dataset: { id: string; name: string };

/** Rows with repeats, nulls, negative and fractional numbers, dates, timestamps and non-ASCII text. */
function csv(rows: number): string {
  const lines = ['n,score,city,flag,day,seen'];
  const cities = ['Oslo', 'Zürich', 'Åre', 'bergen', 'Ōsaka', 'Lima'];
  for (let i = 1; i <= rows; i++) {
    const n = i % 17 === 0 ? '' : String(((i * 7919) % 613) - 300);
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
  it('merges partitions run as separate jobs into exactly the single-pass profile', async () => {
    const single = await jobs.call<DatasetProfile>(
      owner,
      jobs.data,
      'GET',
      `/api/v1/data/datasets/${dataset.id}/profile`,
    );
    expect(single.status).toBe(200);
    expect(single.body.sampled).toBe(false);

    const job = await runJob(jobs, owner, 'profile', { dataset: dataset.name, partitions: 4 }, 60_000);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const result = job.result as { profile: DatasetProfile; partitions: number; stored: boolean };
    expect(result).toMatchObject({ partitions: 4, stored: true });
    expect(comparable(result.profile)).toEqual(comparable(single.body));
    // Not trivially equal: every kind of statistic is there.
    const n = result.profile.columns.find((c) => c.name === 'n')!;
    expect(n.quantiles?.p50).not.toBeNull();
    expect(n.top_values?.length).toBe(10);
    expect(n.histogram?.reduce((sum, bin) => sum + bin.count, 0)).toBe(n.count);
    expect(n.nulls).toBe(Math.floor(3000 / 17));

    // Eight partition jobs ran (two phases of four), each a job of its own.
    const children = await jobs.call<{
      jobs: { state: string; params: { parent: string; phase: string } }[];
    }>(owner, jobs.compute, 'GET', `${JOBS}?type=profile-partition&limit=100`);
    const mine = children.body.jobs.filter((child) => child.params.parent === job.id);
    expect(mine).toHaveLength(8);
    expect(mine.every((child) => child.state === 'succeeded')).toBe(true);

    // The merged profile is now the one GET …/profile serves.
    const after = await jobs.call<DatasetProfile>(
      owner,
      jobs.data,
      'GET',
      `/api/v1/data/datasets/${dataset.id}/profile`,
    );
    expect(comparable(after.body)).toEqual(comparable(result.profile));
  });

  it('gives the same profile with one partition or seven', async () => {
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
