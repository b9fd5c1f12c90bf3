import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '@datalab/platform';
import { person } from '../../../../test/internal.ts';
import type { RowsPage } from './browse.schemas.ts';
import { createDatasetFixture, type BrowseTestApp, type DatasetFixture } from './browse.test-fixtures.ts';
import { openRowsSetup, COLUMNS, ROWS, expectedOrder, type Row, type RowsSetup } from './rows.test-data.ts';

describe('browsing rows', () => {
  const owner = person('editor');
  let setup: RowsSetup;
  let db: Database;
  let browse: BrowseTestApp;
  let dataset: DatasetFixture;
  let everyRow: Row[];
  let page: RowsSetup['page'];
  let pageThrough: RowsSetup['pageThrough'];
  let fixtures: DatasetFixture[];

  beforeAll(async () => {
    setup = await openRowsSetup(owner);
    ({ db, browse, dataset, everyRow, page, pageThrough, fixtures } = setup);
  });
  afterAll(() => setup.close());

  it('lists rows in insertion order by default, with the data columns and not the row id', async () => {
    const response = await page(owner, dataset.name, { limit: '3' });
    const body = response.json<RowsPage>();

    expect(body.columns).toEqual(
      COLUMNS.map((c) => ({ name: c.name, original_name: c.name.toUpperCase(), type: c.type })),
    );
    expect(body.rows).toHaveLength(3);
    expect(body.rows[0]).toEqual([
      1,
      0.25,
      'l01',
      '2024-01-02',
      '2024-03-01T12:00:00.000001+00:00',
      false,
      '1_',
      { k: 1 },
    ]);
    expect(everyRow.map((row) => row.id)).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
  });

  it('ends with next: null on a last page that is exactly full, never with an empty page', async () => {
    const { rows, pages } = await pageThrough({}, 500);
    expect(pages).toBe(5);
    expect(rows).toHaveLength(ROWS);
  });

  it.each([
    'id',
    '-id',
    'score',
    '-score',
    'label',
    '-label',
    'day',
    '-day',
    'at',
    '-at',
    'flag',
    '-flag',
    'doc',
    '-doc',
  ])(
    'pages through sort=%s returning every row exactly once, in order, nulls last, ties by insertion',
    async (sort) => {
      const { rows } = await pageThrough({ sort }, 97);
      const ids = rows.map((row) => row.id);
      expect(new Set(ids).size).toBe(ROWS);
      expect(ids).toEqual(expectedOrder(everyRow, sort));
    },
  );

  it('gives back values exactly: big integers, NaN, unicode, dates, microseconds, JSON and nulls', async () => {
    const exact = await createDatasetFixture(db.pool, {
      ownerId: owner.userId,
      columns: [
        { name: 'big', type: 'integer' },
        { name: 'ratio', type: 'float' },
        { name: 'city', type: 'text' },
        { name: 'day', type: 'date' },
        { name: 'at', type: 'timestamp' },
        { name: 'doc', type: 'json' },
        { name: 'ok', type: 'boolean' },
      ],
      rows: {
        values: [
          [
            '9007199254740993',
            'NaN',
            'Zürich 🚀 a:b',
            '2024-02-29',
            '2024-05-06T07:08:09.123456Z',
            '{"a":[1,"x"]}',
            true,
          ],
          [null, null, null, null, null, null, null],
        ],
      },
    });
    fixtures.push(exact);

    const body = (await page(owner, exact.id, { filter: 'city:eq:Zürich 🚀 a:b' })).json<RowsPage>();
    const all = (await page(owner, exact.id, {})).json<RowsPage>();

    expect(body.rows).toEqual([
      [
        '9007199254740993',
        'NaN',
        'Zürich 🚀 a:b',
        '2024-02-29',
        '2024-05-06T07:08:09.123456+00:00',
        { a: [1, 'x'] },
        true,
      ],
    ]);
    expect(all.rows[1]).toEqual([null, null, null, null, null, null, null]);
    expect(all.next).toBeNull();
  });

  it('documents both routes, their parameters and answers, in the OpenAPI document', async () => {
    const document = (await browse.app.inject('/openapi.json')).json<{
      paths: Record<string, { get: { parameters: { name: string }[]; responses: Record<string, unknown> } }>;
    }>();
    const rows = document.paths['/api/v1/data/datasets/{id}/rows']?.get;
    const profile = document.paths['/api/v1/data/datasets/{id}/profile']?.get;

    expect(rows?.parameters.map((p) => p.name)).toEqual(
      expect.arrayContaining(['id', 'limit', 'sort', 'after', 'filter']),
    );
    expect(rows?.responses).toHaveProperty('200');
    expect(profile?.responses).toHaveProperty('200');
  });

  it('asks to retry, not fails, when the table was swapped away between metadata and rows', async () => {
    const replaced = await createDatasetFixture(db.pool, {
      ownerId: owner.userId,
      columns: [{ name: 'n', type: 'integer' }],
      rows: { count: 3, expressions: ['i'] },
    });
    fixtures.push(replaced);
    await db.pool.query(`DROP TABLE datasets."${replaced.tableName}"`);

    for (const path of ['rows', 'profile']) {
      const response = await browse.get(owner, `/api/v1/data/datasets/${replaced.id}/${path}`);
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
    }
  });

  describe('who may read', () => {
    const stranger = person('editor');
    const admin = person('admin');
    let shared: DatasetFixture;

    beforeAll(async () => {
      shared = await createDatasetFixture(db.pool, {
        ownerId: owner.userId,
        visibility: 'shared',
        columns: [{ name: 'n', type: 'integer' }],
        rows: { count: 3, expressions: ['i'] },
      });
      fixtures.push(shared);
    });

    it("answers 404 for another user's private dataset, by id and by name, rows and profile alike", async () => {
      for (const path of [`${dataset.id}/rows`, `${dataset.name}/rows`, `${dataset.id}/profile`]) {
        const response = await browse.get(stranger, `/api/v1/data/datasets/${path}`);
        expect(response.statusCode).toBe(404);
        expect(response.body).not.toContain(dataset.tableName);
      }
    });

    it('lets anyone read a shared dataset and an admin read a private one', async () => {
      expect((await page(stranger, shared.id, {})).json<RowsPage>().rows).toEqual([[1], [2], [3]]);
      expect((await page(admin, dataset.id, { limit: '1' })).statusCode).toBe(200);
    });

    it('answers 404 for a dataset that does not exist and 401 for an anonymous call', async () => {
      expect((await page(owner, '00000000-0000-4000-8000-000000000000', {})).statusCode).toBe(404);
      const anonymous = await browse.app.inject(`/api/v1/data/datasets/${dataset.id}/rows`);
      expect(anonymous.statusCode).toBe(401);
    });
  });
});
