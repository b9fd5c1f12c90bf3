import { describe, expect, it } from 'vitest';
import {
  DATASETS,
  contractSuite,
  created,
  fresh,
  jsonOf,
  listedNames,
  refusal,
  rowsOf,
  type Caller,
  type DatasetView,
} from './http.contract-fixtures.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('datasets: create, read, list, change and delete through the gateway', () => {
  const { owner, other, viewer, admin } = contractSuite({
    owner: 'editor',
    other: 'editor',
    viewer: 'viewer',
    admin: 'admin',
  });

  const get = (caller: Caller, id: string) => caller.call(`${DATASETS}/${id}`);

  it('an editor uploads a CSV: 201 with the dataset, its typed columns, version 1 and no rejects', async () => {
    const name = fresh('cities');
    const upload = await created(owner, 'city,people\nLyon,522250\nNantes,320732\n', 'cities.csv', {
      name,
      description: 'French cities',
    });
    expect(upload).toEqual({
      dataset: {
        id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
        name,
        description: 'French cities',
        owner_id: owner.id,
        visibility: 'private',
        columns: [
          { name: 'city', original_name: 'city', type: 'text' },
          { name: 'people', original_name: 'people', type: 'integer' },
        ],
        row_count: 2,
        bytes: expect.any(Number) as unknown,
        version: 1,
        source_format: 'csv',
        created_at: expect.stringMatching(ISO) as unknown,
        updated_at: upload.dataset.created_at,
      },
      rows_written: 2,
      rejects: { count: 0, first: [], download: null },
    });
    expect(upload.dataset.bytes).toBeGreaterThan(0);

    const byId = await jsonOf<DatasetView>(await get(owner, upload.dataset.id));
    const byName = await jsonOf<DatasetView>(await get(owner, name));
    expect(byId).toEqual(upload.dataset);
    expect(byName).toEqual(upload.dataset);
    expect(await rowsOf(owner, `SELECT city, people FROM ${name} ORDER BY people`)).toEqual([
      ['Nantes', 320732],
      ['Lyon', 522250],
    ]);
  });

  it('names a dataset after its file and gives columns SQL-safe names, keeping the originals', async () => {
    const stem = fresh('Sales');
    const upload = await created(owner, 'Unit Price,order,Unit-Price,2nd\n1,2,3,4\n', `${stem} 2024.csv`);
    expect(upload.dataset.name).toBe(`${stem.toLowerCase()}_2024`);
    expect(upload.dataset.columns).toEqual([
      { name: 'unit_price', original_name: 'Unit Price', type: 'integer' },
      { name: 'order_', original_name: 'order', type: 'integer' },
      { name: 'unit_price_2', original_name: 'Unit-Price', type: 'integer' },
      { name: '_2nd', original_name: '2nd', type: 'integer' },
    ]);
    expect(
      await rowsOf(owner, `SELECT unit_price, order_, unit_price_2, _2nd FROM ${upload.dataset.name}`),
    ).toEqual([[1, 2, 3, 4]]);
  });

  it('lists what each caller may read, newest change first, with search, owner=me, paging and a total', async () => {
    const prefix = fresh('listed');
    const mine = [];
    for (const [suffix, visibility] of [
      ['a', 'private'],
      ['b', 'shared'],
      ['c', 'private'],
    ] as const) {
      mine.push(
        (await created(owner, 'x\n1\n', 'x.csv', { name: `${prefix}_${suffix}`, visibility })).dataset,
      );
    }
    await created(other, 'x\n1\n', 'x.csv', { name: `${prefix}_d`, visibility: 'private' });
    await created(other, 'x\n1\n', 'x.csv', { name: `${prefix}_e`, visibility: 'shared' });

    const list = (caller: Caller, query: string) =>
      caller
        .call(`${DATASETS}?search=${prefix}${query}`)
        .then((response) => jsonOf<{ datasets: DatasetView[]; total: number }>(response));
    const names = (page: { datasets: DatasetView[] }) =>
      page.datasets.map((d) => d.name.slice(prefix.length + 1));

    const all = await list(owner, '');
    expect({ names: names(all), total: all.total }).toEqual({ names: ['e', 'c', 'b', 'a'], total: 4 });
    expect(all.datasets[1]).toEqual(mine[2]);
    const own = await list(owner, '&owner=me');
    expect({ names: names(own), total: own.total }).toEqual({ names: ['c', 'b', 'a'], total: 3 });

    const first = await list(owner, '&limit=3&offset=0');
    const second = await list(owner, '&limit=3&offset=3');
    expect([names(first), first.total, names(second), second.total]).toEqual([['e', 'c', 'b'], 4, ['a'], 4]);

    const seen = await list(viewer, '');
    expect({ names: names(seen), total: seen.total }).toEqual({ names: ['e', 'b'], total: 2 });
    const everything = await list(admin, '');
    expect({ names: names(everything), total: everything.total }).toEqual({
      names: ['e', 'd', 'c', 'b', 'a'],
      total: 5,
    });
    const described = await created(owner, 'x\n1\n', 'x.csv', {
      name: fresh('plain'),
      description: `about ${prefix} and more`,
    });
    expect((await list(owner, '')).datasets[0]?.id).toBe(described.dataset.id);
  });

  it('refuses list parameters out of range, naming the parameter', async () => {
    for (const [query, field] of [
      ['limit=0', '/querystring/limit'],
      ['limit=501', '/querystring/limit'],
      ['offset=-1', '/querystring/offset'],
      ['owner=you', '/querystring/owner'],
    ] as const) {
      const problem = await refusal(await owner.call(`${DATASETS}?${query}`), 400, field);
      expect(problem.errors).toEqual([expect.objectContaining({ field })]);
    }
  });

  it('lets the owner change the description and visibility, and readers see the change at once', async () => {
    const { dataset } = await created(owner, 'x\n1\n', 'x.csv', { name: fresh('changing') });
    await refusal(await get(viewer, dataset.id), 404, 'Dataset not found');

    const response = await owner.send('PATCH', `${DATASETS}/${dataset.id}`, {
      description: 'now for everyone',
      visibility: 'shared',
    });
    const changed = await jsonOf<DatasetView>(response);
    expect(changed).toEqual({
      ...dataset,
      description: 'now for everyone',
      visibility: 'shared',
      updated_at: expect.stringMatching(ISO) as unknown,
    });
    expect(Date.parse(changed.updated_at)).toBeGreaterThanOrEqual(Date.parse(dataset.updated_at));
    expect(await jsonOf<DatasetView>(await get(viewer, dataset.id))).toEqual(changed);
    expect(await rowsOf(viewer, `SELECT x FROM ${dataset.name}`)).toEqual([[1]]);

    const back = await jsonOf<DatasetView>(
      await owner.send('PATCH', `${DATASETS}/${dataset.name}`, { visibility: 'private' }),
    );
    expect(back).toMatchObject({ visibility: 'private', description: 'now for everyone' });
    await refusal(await get(viewer, dataset.id), 404, 'Dataset not found');
    await refusal(
      await viewer.query({ sql: `SELECT x FROM ${dataset.name}` }),
      404,
      `"${dataset.name}" not found`,
    );
    expect(await listedNames(viewer, dataset.name)).toEqual([]);
  });

  it('refuses changes that are not right or not the caller’s, and the dataset stays as it was', async () => {
    const { dataset } = await created(owner, 'x\n1\n', 'x.csv', {
      name: fresh('kept'),
      visibility: 'shared',
    });
    const secret = (await created(owner, 'x\n1\n', 'x.csv', { name: fresh('secret') })).dataset;
    const patch = (caller: Caller, id: string, body: unknown) =>
      caller.send('PATCH', `${DATASETS}/${id}`, body);
    await refusal(await patch(owner, dataset.id, {}), 400, '/body');
    await refusal(await patch(owner, dataset.id, { owner_id: other.id }), 400, 'additional properties');
    const visibility = await refusal(
      await patch(owner, dataset.id, { visibility: 'public' }),
      400,
      'visibility',
    );
    expect(visibility.errors).toContainEqual(expect.objectContaining({ field: '/body/visibility' }));
    const long = await refusal(
      await patch(owner, dataset.id, { description: 'x'.repeat(4001) }),
      400,
      '4000',
    );
    expect(long.errors).toContainEqual(expect.objectContaining({ field: '/body/description' }));
    await refusal(
      await patch(other, dataset.id, { description: 'mine' }),
      403,
      'You may not change this dataset',
    );
    await refusal(await patch(other, secret.id, { description: 'mine' }), 404, 'Dataset not found');
    await refusal(await patch(viewer, dataset.id, { description: 'mine' }), 403, 'Viewers');
    await refusal(
      await patch(owner, '00000000-0000-4000-8000-000000000000', { description: 'x' }),
      404,
      'Dataset not found',
    );
    expect(await jsonOf<DatasetView>(await get(owner, dataset.id))).toEqual(dataset);
    expect(await jsonOf<DatasetView>(await get(owner, secret.id))).toEqual(secret);
  });

  it('lets an admin change and delete a dataset that is not theirs', async () => {
    const { dataset } = await created(owner, 'x\n1\n', 'x.csv', { name: fresh('admined') });
    const changed = await jsonOf<DatasetView>(
      await admin.send('PATCH', `${DATASETS}/${dataset.id}`, { description: 'checked by an admin' }),
    );
    expect(changed).toMatchObject({ owner_id: owner.id, description: 'checked by an admin' });
    const deleted = await admin.send('DELETE', `${DATASETS}/${dataset.id}`);
    expect(deleted.status).toBe(204);
    await refusal(await get(owner, dataset.id), 404, 'Dataset not found');
  });

  it('deletes a dataset: 204, then it is gone from every route, and its name is free again', async () => {
    const name = fresh('doomed');
    const upload = await created(owner, 'x,y\n1,a\n2,b\n3,\n', 'x.csv', {
      name,
      types: '{"y":"integer"}',
      on_error: 'skip',
    });
    expect(upload.rejects.count).toBe(2);
    const id = upload.dataset.id;
    expect((await owner.call(`${DATASETS}/${id}/profile`)).status).toBe(200);

    const deleted = await owner.send('DELETE', `${DATASETS}/${name}`);
    expect({ status: deleted.status, body: await deleted.text() }).toEqual({ status: 204, body: '' });

    for (const path of [
      `${DATASETS}/${id}`,
      `${DATASETS}/${name}`,
      `${DATASETS}/${id}/rows`,
      `${DATASETS}/${id}/profile`,
      `${DATASETS}/${id}/versions`,
      `${DATASETS}/${id}/export`,
      upload.rejects.download!,
    ]) {
      await refusal(await owner.call(path), 404, 'not found');
    }
    await refusal(await owner.query({ sql: `SELECT x FROM ${name}` }), 404, `Dataset "${name}" not found`);
    await refusal(await owner.query({ dataset: id }), 404, 'not found');
    await refusal(await owner.send('DELETE', `${DATASETS}/${id}`), 404, 'Dataset not found');
    expect(await listedNames(admin, name)).toEqual([]);

    const again = await created(owner, 'z\n9\n', 'z.csv', { name });
    expect(again.dataset.id).not.toBe(id);
    expect(again.dataset.version).toBe(1);
    expect(await rowsOf(owner, `SELECT z FROM ${name}`)).toEqual([[9]]);
  });

  it('refuses deletion by anyone but the owner or an admin, and the dataset stays whole', async () => {
    const shared = (await created(owner, 'x\n1\n', 'x.csv', { name: fresh('stays'), visibility: 'shared' }))
      .dataset;
    const secret = (await created(owner, 'x\n1\n', 'x.csv', { name: fresh('stays') })).dataset;
    await refusal(
      await other.send('DELETE', `${DATASETS}/${shared.id}`),
      403,
      'You may not change this dataset',
    );
    await refusal(await other.send('DELETE', `${DATASETS}/${secret.id}`), 404, 'Dataset not found');
    await refusal(await viewer.send('DELETE', `${DATASETS}/${shared.id}`), 403, 'Viewers');
    for (const dataset of [shared, secret]) {
      expect(await jsonOf<DatasetView>(await get(owner, dataset.id))).toEqual(dataset);
      expect(await rowsOf(owner, `SELECT x FROM ${dataset.name}`)).toEqual([[1]]);
    }
  });

  it('refuses a rename to a name that is taken or is not an identifier, and changes nothing', async () => {
    const { dataset } = await created(owner, 'x\n1\n', 'x.csv', { name: fresh('keep') });
    const { dataset: taken } = await created(owner, 'x\n2\n', 'x.csv', { name: fresh('taken') });
    const patch = (name: string) => owner.send('PATCH', `${DATASETS}/${dataset.id}`, { name });
    await refusal(await patch(taken.name), 409, `A dataset named "${taken.name}" exists already`);
    const problem = await refusal(await patch('2024 sales; DROP'), 400, 'SQL identifier');
    expect(problem.errors).toContainEqual(expect.objectContaining({ field: 'name' }));
    const long = await refusal(await patch('n'.repeat(64)), 400, '63');
    expect(long.errors).toContainEqual(expect.objectContaining({ field: '/body/name' }));
    expect(await jsonOf<DatasetView>(await get(owner, dataset.id))).toEqual(dataset);
    expect(await rowsOf(owner, `SELECT x FROM ${dataset.name}`)).toEqual([[1]]);
  });

  it('lets the owner rename a dataset, and SQL then finds it by the new name only', async () => {
    const { dataset } = await created(owner, 'x\n1\n', 'x.csv', { name: fresh('before') });
    const renamed = fresh('after');
    const changed = await jsonOf<DatasetView>(
      await owner.send('PATCH', `${DATASETS}/${dataset.id}`, { name: renamed }),
    );
    expect(changed).toMatchObject({ id: dataset.id, name: renamed });
    expect(await rowsOf(owner, `SELECT x FROM ${renamed}`)).toEqual([[1]]);
    await refusal(await owner.query({ sql: `SELECT x FROM ${dataset.name}` }), 404, 'not found');
  });
});
