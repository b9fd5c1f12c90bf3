import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { person } from '../../../../test/internal.ts';
import type { RowsPage } from './browse.schemas.ts';
import { parquetOf, type BrowseService, type DatasetFixture } from './browse.test-fixtures.ts';
import { openRowsSetup, COLUMNS, ROWS, expectedOrder, type Row, type RowsSetup } from './rows.test-data.ts';

describe('browsing rows', () => {
  const owner = person('editor');
  let setup: RowsSetup;
  let browse: BrowseService;
  let dataset: DatasetFixture;
  let everyRow: Row[];
  let page: RowsSetup['page'];
  let pageThrough: RowsSetup['pageThrough'];

  beforeAll(async () => {
    setup = await openRowsSetup(owner);
    ({ browse, dataset, everyRow, page, pageThrough } = setup);
  });
  afterAll(() => setup.close());

  it('lists rows in upload order by default, with the data columns and no row number', async () => {
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
      '2024-03-01T12:00:00.000001Z',
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
    'pages through sort=%s returning every row exactly once, in order, nulls last, ties in upload order',
    async (sort) => {
      const { rows } = await pageThrough({ sort }, 97);
      const ids = rows.map((row) => row.id);
      expect(new Set(ids).size).toBe(ROWS);
      expect(ids).toEqual(expectedOrder(everyRow, sort));
    },
  );

  it('gives back values exactly: big integers, NaN, unicode, dates, microseconds, JSON and nulls', async () => {
    // NaN and infinities cannot come from a CSV (they are refused there), but can from Parquet.
    const exact = await browse.upload(
      owner,
      await parquetOf(`SELECT * FROM (VALUES
        (9007199254740993::BIGINT, 'NaN'::DOUBLE, 'Zürich 🚀 a:b', DATE '2024-02-29',
          TIMESTAMPTZ '2024-05-06 07:08:09.123456+00', JSON '{"a":[1,"x"]}', true),
        (-9007199254740993::BIGINT, '-Infinity'::DOUBLE, NULL, NULL, NULL, NULL, NULL),
        (NULL, NULL, NULL, NULL, NULL, NULL, NULL)
      ) AS t(big, ratio, city, day, "at", doc, ok)`),
      'exact.parquet',
    );

    const body = (await page(owner, exact.id, { filter: 'city:eq:Zürich 🚀 a:b' })).json<RowsPage>();
    const all = (await page(owner, exact.id, {})).json<RowsPage>();

    expect(body.rows).toEqual([
      [
        '9007199254740993',
        'NaN',
        'Zürich 🚀 a:b',
        '2024-02-29',
        '2024-05-06T07:08:09.123456Z',
        { a: [1, 'x'] },
        true,
      ],
    ]);
    expect(all.rows.slice(1)).toEqual([
      ['-9007199254740993', '-Infinity', null, null, null, null, null],
      [null, null, null, null, null, null, null],
    ]);
    expect(all.next).toBeNull();
  });

  it('documents both routes, their parameters and answers, in the OpenAPI document', async () => {
    const document = (await browse.get(owner, '/openapi.json')).json<{
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

  it('asks to retry, not fails, when the version’s files went away between the catalog and the rows', async () => {
    const replaced = await browse.dataset(owner, [{ name: 'n', type: 'integer' }], [[1], [2], [3]]);
    for (const key of await browse.filesOf(replaced)) await rm(path.join(browse.storageDir, key));

    for (const route of ['rows', 'profile']) {
      const response = await browse.get(owner, `/api/v1/data/datasets/${replaced.id}/${route}`);
      expect(response.statusCode, response.body).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
    }
  });

  describe('who may read', () => {
    const stranger = person('editor');
    const admin = person('admin');
    let shared: DatasetFixture;

    beforeAll(async () => {
      shared = await browse.dataset(owner, [{ name: 'n', type: 'integer' }], [[1], [2], [3]], {
        visibility: 'shared',
      });
    });

    it("answers 404 for another user's private dataset, by id and by name, rows and profile alike", async () => {
      for (const path of [`${dataset.id}/rows`, `${dataset.name}/rows`, `${dataset.id}/profile`]) {
        const response = await browse.get(stranger, `/api/v1/data/datasets/${path}`);
        expect(response.statusCode).toBe(404);
        expect(response.json<{ detail: string }>().detail).toBe('Dataset not found');
      }
    });

    it('lets anyone read a shared dataset and an admin read a private one', async () => {
      expect((await page(stranger, shared.id, {})).json<RowsPage>().rows).toEqual([[1], [2], [3]]);
      expect((await page(admin, dataset.id, { limit: '1' })).statusCode).toBe(200);
    });

    it('answers 404 for a dataset that does not exist and 401 for an anonymous call', async () => {
      expect((await page(owner, '00000000-0000-4000-8000-000000000000', {})).statusCode).toBe(404);
      const anonymous = await fetch(`${browse.data.url}/api/v1/data/datasets/${dataset.id}/rows`);
      expect(anonymous.status).toBe(401);
    });
  });
});
