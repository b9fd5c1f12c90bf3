import { tableFromIPC } from 'apache-arrow';
import { parquetReadObjects } from 'hyparquet';
import { get } from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Adapters, App, Database } from '@datalab/platform';
import { memoryAdapters } from '../../../../test/helpers.ts';
import { person } from '../../../../test/internal.ts';
import { qualifiedTable, type Dataset } from '../datasets/datasets.types.ts';
import { arrayBufferOf, createTestDataset, queryTestApp, queryTestDatabase } from './query.test-fixtures.ts';

const CSV =
  'code,label,weight,checked,since,at,extra\r\n' +
  '007,"Smith, ""Agent""",1.5,true,2024-02-29,2024-03-01T12:00:00.123456Z,"{""k"":[1,2]}"\r\n' +
  '010,"two\nlines",,false,,,\r\n' +
  ',Zürich 東京,-2,,1999-12-31,,\r\n';

describe('GET /api/v1/data/datasets/:id/export', () => {
  let db: Database;
  let adapters: Adapters;
  let app: App;
  const owner = person('editor');
  const stranger = person('viewer');
  let dataset: Dataset;
  const as = (caller: string) => ({ 'x-test-caller': caller });
  const exportOf = (query: string, headers: Record<string, string> = {}) =>
    app.inject({
      url: `/api/v1/data/datasets/${dataset.name}/export${query}`,
      headers: { ...as('owner'), ...headers },
    });

  beforeAll(async () => {
    db = await queryTestDatabase();
    adapters = memoryAdapters();
    app = await queryTestApp(
      db,
      adapters.cache,
      new Map([
        ['owner', owner],
        ['stranger', stranger],
      ]),
    );
    dataset = await createTestDataset(db.pool, {
      ownerId: owner.userId,
      columns: [
        { name: 'code', type: 'text' },
        { name: 'label', type: 'text' },
        { name: 'weight', type: 'float' },
        { name: 'checked', type: 'boolean' },
        { name: 'since', type: 'date' },
        { name: 'at', type: 'timestamp' },
        { name: 'extra', type: 'json' },
      ],
      rows: [
        ['007', 'Smith, "Agent"', 1.5, true, '2024-02-29', '2024-03-01T12:00:00.123456Z', '{"k": [1, 2]}'],
        ['010', 'two\nlines', null, false, null, null, null],
        [null, 'Zürich 東京', -2, null, '1999-12-31', null, null],
      ],
    });
  });
  afterAll(async () => {
    await app.close();
    await adapters.close();
    await db.close();
  });

  it('downloads CSV by default, in arrival order, with leading zeros, quotes, newlines and unicode intact', async () => {
    const response = await app.inject({
      url: `/api/v1/data/datasets/${dataset.id}/export`,
      headers: as('owner'),
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toBe(`attachment; filename="${dataset.name}.csv"`);
    expect(response.body).toBe(CSV);
  });

  it('downloads JSON with the column types', async () => {
    expect((await exportOf('?format=json')).json()).toEqual({
      columns: dataset.columns.map(({ name, type }) => ({ name, type })),
      rows: [
        ['007', 'Smith, "Agent"', 1.5, true, '2024-02-29', '2024-03-01T12:00:00.123456Z', { k: [1, 2] }],
        ['010', 'two\nlines', null, false, null, null, null],
        [null, 'Zürich 東京', -2, null, '1999-12-31', null, null],
      ],
      row_count: 3,
      truncated: false,
    });
  });

  it('downloads an Arrow stream when Accept asks for one', async () => {
    const response = await exportOf('', { accept: 'application/vnd.apache.arrow.stream' });
    expect(response.headers['content-disposition']).toBe(`attachment; filename="${dataset.name}.arrows"`);
    const rows = tableFromIPC(response.rawPayload)
      .toArray()
      .map((row: { toJSON: () => Record<string, unknown> }) => row.toJSON());
    expect(rows.map((row) => [row.code, row.weight, row.checked, row.since])).toEqual([
      ['007', 1.5, true, Date.UTC(2024, 1, 29)],
      ['010', null, false, null],
      [null, -2, null, Date.UTC(1999, 11, 31)],
    ]);
  });

  it('downloads Parquet', async () => {
    const response = await exportOf('?format=parquet');
    const rows = await parquetReadObjects({
      file: arrayBufferOf(response.rawPayload),
      parsers: { timestampFromMicroseconds: (micros: bigint) => micros },
    });
    expect(rows.map((row: Record<string, unknown>) => [row.code, row.label, row.at, row.extra])).toEqual([
      ['007', 'Smith, "Agent"', 1709294400123456n, { k: [1, 2] }],
      ['010', 'two\nlines', null, null],
      [null, 'Zürich 東京', null, null],
    ]);
  });

  it('answers 404 for a dataset the caller may not read', async () => {
    const response = await app.inject({
      url: `/api/v1/data/datasets/${dataset.id}/export`,
      headers: as('stranger'),
    });
    expect(response.statusCode).toBe(404);
  });

  it('gives the connection back when the client hangs up in the middle of a large download', async () => {
    const single = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
    const server = await queryTestApp(db, adapters.cache, new Map([['owner', owner]]), single);
    try {
      const big = await createTestDataset(db.pool, {
        ownerId: owner.userId,
        columns: [{ name: 'n', type: 'integer' }],
      });
      await db.pool.query(`INSERT INTO ${qualifiedTable(big)} (n) SELECT generate_series(1, 200000)`);
      const url = await server.listen({ host: '127.0.0.1', port: 0 });
      const answered: boolean[] = [];
      server.server.on('request', (_request, response) => {
        response.on('close', () => answered.push(response.writableFinished));
      });
      await new Promise<void>((resolve, reject) => {
        const request = get(
          `${url}/api/v1/data/datasets/${big.name}/export`,
          { headers: as('owner') },
          (response) => {
            response.once('data', () => {
              request.destroy();
              resolve();
            });
          },
        );
        request.on('error', (error) => (request.destroyed ? undefined : reject(error)));
      });
      await expect.poll(() => single.idleCount, { timeout: 5000 }).toBe(1);
      // The answer was cut off, not finished: the cursor was closed by the hang-up.
      expect(answered).toEqual([false]);
      const again = await server.inject({
        url: `/api/v1/data/datasets/${dataset.name}/export`,
        headers: as('owner'),
      });
      expect(again.body).toBe(CSV);
    } finally {
      await server.close();
      await single.end();
    }
  });
});
