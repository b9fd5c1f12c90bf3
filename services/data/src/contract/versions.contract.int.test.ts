import { describe, expect, it } from 'vitest';
import {
  DATASETS,
  contractSuite,
  created,
  fresh,
  jsonOf,
  refusal,
  rowsOf,
  type Caller,
  type DatasetView,
  type Upload,
} from './http.contract-fixtures.ts';

interface Version {
  version: number;
  mode: string;
  rows_written: number;
  rows_rejected: number;
  created_by: string;
  created_at: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('versions: append, replace and the version list', () => {
  const { owner, other, viewer, admin } = contractSuite({
    owner: 'editor',
    other: 'editor',
    viewer: 'viewer',
    admin: 'admin',
  });

  const versionsOf = async (caller: Caller, id: string) =>
    (await jsonOf<{ versions: Version[] }>(await caller.call(`${DATASETS}/${id}/versions`))).versions;
  const datasetOf = async (caller: Caller, id: string) =>
    jsonOf<DatasetView>(await caller.call(`${DATASETS}/${id}`));

  /** A dataset of three rows (id, city), shared or not. */
  async function cities(visibility: 'private' | 'shared' = 'private'): Promise<DatasetView> {
    const csv = 'id,city\n1,Lyon\n2,Nantes\n3,Lille\n';
    return (await created(owner, csv, 'cities.csv', { name: fresh('cities'), visibility })).dataset;
  }

  /** The dataset, its versions and its rows are what they were. */
  async function unchanged(before: DatasetView): Promise<void> {
    expect(await datasetOf(owner, before.id)).toEqual(before);
    expect((await versionsOf(owner, before.id)).map((v) => v.version)).toEqual(
      Array.from({ length: before.version }, (_, i) => before.version - i),
    );
    expect((await rowsOf(owner, `SELECT count(*) AS n FROM ${before.name}`))[0]).toEqual([before.row_count]);
  }

  it('appends rows as a new version, and the version list says what each version did, newest first', async () => {
    const dataset = await cities();
    const response = await owner.addVersion(dataset.id, 'id,city\n4,Brest\n5,Metz\n', 'more.csv');
    const appended = await jsonOf<Upload>(response, 201);
    expect(appended).toEqual({
      dataset: {
        ...dataset,
        row_count: 5,
        version: 2,
        bytes: expect.any(Number) as unknown,
        updated_at: expect.stringMatching(ISO) as unknown,
      },
      rows_written: 2,
      rejects: { count: 0, first: [], download: null },
    });
    expect(await datasetOf(owner, dataset.name)).toEqual(appended.dataset);
    expect(await rowsOf(owner, `SELECT id, city FROM ${dataset.name} ORDER BY id`)).toEqual([
      [1, 'Lyon'],
      [2, 'Nantes'],
      [3, 'Lille'],
      [4, 'Brest'],
      [5, 'Metz'],
    ]);
    const versions = await versionsOf(owner, dataset.id);
    expect(versions).toEqual([
      {
        version: 2,
        mode: 'append',
        rows_written: 2,
        rows_rejected: 0,
        created_by: owner.id,
        created_at: expect.stringMatching(ISO) as unknown,
      },
      {
        version: 1,
        mode: 'create',
        rows_written: 3,
        rows_rejected: 0,
        created_by: owner.id,
        created_at: expect.stringMatching(ISO) as unknown,
      },
    ]);
    expect(Date.parse(versions[0]!.created_at)).toBeGreaterThanOrEqual(Date.parse(versions[1]!.created_at));
  });

  it('appends in the dataset’s own types: the file’s values are read as the columns say', async () => {
    const name = fresh('codes');
    const { dataset } = await created(owner, 'code,n\n007,1\n', 'codes.csv', { name });
    expect(dataset.columns.map((c) => c.type)).toEqual(['text', 'integer']);
    await jsonOf<Upload>(await owner.addVersion(name, 'code,n\n8,2\n', 'more.csv'), 201);
    expect(await rowsOf(owner, `SELECT code, n FROM ${name} ORDER BY n`)).toEqual([
      ['007', 1],
      ['8', 2],
    ]);
  });

  it('refuses an append with a value its column cannot hold, naming line and column, and changes nothing', async () => {
    const dataset = await cities();
    const problem = await refusal(
      await owner.addVersion(dataset.id, 'id,city\n4,Brest\nfive,Metz\n', 'bad.csv'),
      400,
      'line 3, column "id"',
    );
    expect(problem.errors).toEqual([
      { field: 'line 3, column id', message: expect.stringContaining('"five"') as unknown },
    ]);
    await unchanged(dataset);
  });

  it('appends with on_error=skip: good rows in, bad rows counted in the version and downloadable', async () => {
    const dataset = await cities();
    const appended = await jsonOf<Upload>(
      await owner.addVersion(dataset.id, 'id,city\n4,Brest\nfive,Metz\n6,Nice\n', 'skip.csv', {
        on_error: 'skip',
      }),
      201,
    );
    expect(appended).toMatchObject({
      dataset: { version: 2, row_count: 5 },
      rows_written: 2,
      rejects: { count: 1, first: [{ line: 3, column: 'id', value: 'five' }] },
    });
    expect((await versionsOf(owner, dataset.id))[0]).toMatchObject({
      version: 2,
      mode: 'append',
      rows_written: 2,
      rows_rejected: 1,
    });
    const rejects = await owner.call(appended.rejects.download!);
    expect(await rejects.text()).toContain('3,id,five,integer');
    expect(await rowsOf(owner, `SELECT id FROM ${dataset.name} ORDER BY id`)).toEqual([
      [1],
      [2],
      [3],
      [4],
      [6],
    ]);
  });

  it('replaces the whole content, columns included, as a new version', async () => {
    const dataset = await cities();
    const replaced = await jsonOf<Upload>(
      await owner.addVersion(dataset.name, 'city,people\nLyon,522250\n', 'people.csv', { mode: 'replace' }),
      201,
    );
    expect(replaced).toMatchObject({
      dataset: {
        id: dataset.id,
        name: dataset.name,
        version: 2,
        row_count: 1,
        columns: [
          { name: 'city', original_name: 'city', type: 'text' },
          { name: 'people', original_name: 'people', type: 'integer' },
        ],
      },
      rows_written: 1,
    });
    expect(await rowsOf(owner, `SELECT city, people FROM ${dataset.name}`)).toEqual([['Lyon', 522250]]);
    await refusal(await owner.query({ sql: `SELECT id FROM ${dataset.name}` }), 400, 'id');
    const again = await jsonOf<Upload>(
      await owner.addVersion(dataset.name, 'city,people\nNantes,320732\n', 'more.csv', { mode: 'append' }),
      201,
    );
    expect(again.dataset).toMatchObject({ version: 3, row_count: 2 });
    expect((await versionsOf(owner, dataset.id)).map((v) => [v.version, v.mode, v.rows_written])).toEqual([
      [3, 'append', 1],
      [2, 'replace', 1],
      [1, 'create', 3],
    ]);
  });

  it('refuses a replace with a bad row and keeps the old content', async () => {
    const dataset = await cities();
    await refusal(
      await owner.addVersion(dataset.id, 'a,b\n1,2\n3\n', 'bad.csv', { mode: 'replace' }),
      400,
      'line 3',
    );
    await unchanged(dataset);
    expect(await rowsOf(owner, `SELECT city FROM ${dataset.name} ORDER BY id`)).toEqual([
      ['Lyon'],
      ['Nantes'],
      ['Lille'],
    ]);
  });

  it('refuses an append whose columns are not the dataset’s, and changes nothing', async () => {
    const dataset = await cities();
    for (const header of ['id,city,extra\n4,Brest,x\n', 'city,id\nBrest,4\n', 'id\n4\n']) {
      const problem = await refusal(await owner.addVersion(dataset.id, header, 'other.csv'), 400, 'column');
      expect(JSON.stringify(problem), header).toContain(header.split('\n')[0]!.split(',').at(-1));
    }
    await unchanged(dataset);
  });

  it('names the dataset’s columns, in order, when an append lacks one of them', async () => {
    const dataset = await cities();
    const problem = await refusal(
      await owner.addVersion(dataset.id, 'id\n4\n', 'other.csv'),
      400,
      'id, city',
    );
    expect(problem.detail).not.toContain('Types');
  });

  it('refuses a mode that is neither append nor replace', async () => {
    const dataset = await cities();
    const problem = await refusal(
      await owner.addVersion(dataset.id, 'id,city\n4,Brest\n', 'more.csv', { mode: 'merge' }),
      400,
      'mode',
    );
    expect(problem.errors).toContainEqual(expect.objectContaining({ field: 'mode' }));
    await unchanged(dataset);
  });

  it('lets only the owner or an admin add versions; others are refused and nothing changes', async () => {
    const shared = await cities('shared');
    const secret = await cities();
    const file = 'id,city\n9,Paris\n';
    await refusal(await other.addVersion(shared.id, file, 'x.csv'), 403, 'You may not change this dataset');
    await refusal(await other.addVersion(secret.id, file, 'x.csv'), 404, 'Dataset not found');
    await refusal(await viewer.addVersion(shared.id, file, 'x.csv'), 403, 'Viewers');
    await refusal(
      await owner.addVersion('00000000-0000-4000-8000-000000000000', file, 'x.csv'),
      404,
      'Dataset not found',
    );
    await unchanged(shared);
    await unchanged(secret);

    const byAdmin = await jsonOf<Upload>(await admin.addVersion(secret.id, file, 'x.csv'), 201);
    expect(byAdmin.dataset).toMatchObject({ owner_id: owner.id, version: 2, row_count: 4 });
    expect((await versionsOf(owner, secret.id))[0]).toMatchObject({ mode: 'append', created_by: admin.id });
  });

  it('shows the version list to whoever may read the dataset, and to nobody else', async () => {
    const shared = await cities('shared');
    const secret = await cities();
    expect(await versionsOf(viewer, shared.id)).toHaveLength(1);
    await refusal(await viewer.call(`${DATASETS}/${secret.id}/versions`), 404, 'Dataset not found');
    await refusal(await other.call(`${DATASETS}/${secret.id}/versions`), 404, 'Dataset not found');
  });
});
