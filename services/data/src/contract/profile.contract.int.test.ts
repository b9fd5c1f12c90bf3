import { describe, expect, it } from 'vitest';
import {
  DATASETS,
  contractSuite,
  created,
  fresh,
  jsonOf,
  refusal,
  runJob,
  type Caller,
  type DatasetView,
  type Upload,
} from './http.contract-fixtures.ts';
import {
  SALES,
  column,
  expectSalesColumns,
  round,
  statsOf,
  type Profile,
} from './profile.contract-fixtures.ts';

describe('profiles: exact statistics of every column, per version', () => {
  const { owner, viewer, stranger } = contractSuite({
    owner: 'editor',
    viewer: 'viewer',
    stranger: 'editor',
  });

  const sales = async (visibility: 'private' | 'shared' = 'private'): Promise<DatasetView> =>
    (await created(owner, `${SALES}\n`, 'sales.csv', { name: fresh('sales'), visibility })).dataset;
  const profileOf = async (caller: Caller, id: string) =>
    jsonOf<Profile>(await caller.call(`${DATASETS}/${id}/profile`));

  it('describes every column exactly: counts, nulls, distinct values, min, max, mean, spread, top values, bins', async () => {
    const dataset = await sales();
    const profile = await profileOf(owner, dataset.id);
    expect(profile).toMatchObject({
      dataset_id: dataset.id,
      version: 1,
      row_count: 7,
      sampled: false,
      sample_rows: null,
    });
    expect(Number.isNaN(Date.parse(profile.computed_at))).toBe(false);
    expectSalesColumns(profile);
    expect(await profileOf(owner, dataset.name)).toEqual(profile);
  });

  it('describes the new version after an append', async () => {
    const dataset = await sales();
    await profileOf(owner, dataset.id);
    const appended = await owner.addVersion(dataset.id, 'region,n,x,day,at,ok\nwest,100,,,,\n', 'more.csv');
    expect((await jsonOf<Upload>(appended, 201)).dataset.version).toBe(2);
    const profile = await profileOf(owner, dataset.id);
    expect(profile).toMatchObject({ version: 2, row_count: 8 });
    expect(statsOf(column(profile, 'region'))).toMatchObject({ count: 7, distinct: 4, max: 'west' });
    expect(statsOf(column(profile, 'n'))).toMatchObject({
      count: 6,
      nulls: 2,
      max: 100,
      mean: round(165 / 6),
    });
  });

  it('describes a dataset without rows as empty columns', async () => {
    const { dataset } = await created(owner, 'a,b\n', 'empty.csv', {
      name: fresh('empty'),
      types: JSON.stringify({ b: 'integer' }),
    });
    const profile = await profileOf(owner, dataset.id);
    expect(profile).toMatchObject({ row_count: 0, sampled: false });
    expect(profile.columns.map((c) => [c.name, c.count, c.nulls, c.distinct, c.min, c.max, c.mean])).toEqual([
      ['a', 0, 0, 0, null, null, null],
      ['b', 0, 0, 0, null, null, null],
    ]);
  });

  it('shows a shared dataset’s profile to a viewer, and answers 404 to whoever may not read it', async () => {
    const shared = await sales('shared');
    const secret = await sales();
    expectSalesColumns(await profileOf(viewer, shared.id));
    await refusal(await viewer.call(`${DATASETS}/${secret.id}/profile`), 404, 'Dataset not found');
    await refusal(await stranger.call(`${DATASETS}/${secret.id}/profile`), 404, 'Dataset not found');
  });

  it('computes the same profile as a `profile` job, which stores it for the dataset’s version', async () => {
    const dataset = await sales();
    const job = await runJob(owner, 'profile', { dataset: dataset.name, partitions: 3 });
    expect(job).toMatchObject({ type: 'profile', state: 'succeeded', owner_id: owner.id, error: null });
    const result = job.result as { dataset_id: string; version: number; url: string; profile: Profile };
    expect(result).toMatchObject({
      dataset_id: dataset.id,
      version: 1,
      url: `${DATASETS}/${dataset.id}/profile`,
      profile: { dataset_id: dataset.id, version: 1, row_count: 7, sampled: false },
    });
    expectSalesColumns(result.profile);
    expectSalesColumns(await profileOf(owner, dataset.id));
  });

  it('fails a `profile` job on a dataset its owner may not read, and refuses one from a viewer', async () => {
    const secret = await sales();
    const job = await runJob(stranger, 'profile', { dataset: secret.id });
    expect(job).toMatchObject({ state: 'failed', attempts: 1, result: null });
    expect(job.error?.message).toContain('Dataset not found');
    const problem = await refusal(
      await viewer.send('POST', '/api/v1/compute/jobs', { type: 'profile', params: { dataset: secret.id } }),
      403,
      'Viewers',
    );
    expect(problem.status).toBe(403);
    const refused = await refusal(
      await owner.send('POST', '/api/v1/compute/jobs', {
        type: 'profile',
        params: { dataset: secret.id, partitions: 0 },
      }),
      400,
      'partitions',
    );
    expect(refused.errors).toContainEqual(expect.objectContaining({ field: '/body/params/partitions' }));
  });
});
