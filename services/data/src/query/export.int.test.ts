import { tableFromIPC } from 'apache-arrow';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Adapters, App, Database } from '@datalab/platform';
import { memoryAdapters } from '../../../../test/helpers.ts';
import { person } from '../../../../test/internal.ts';
import { readersThatStall } from '../../../../test/slow-reader.ts';
import { qualifiedTable, type Dataset } from '../datasets/datasets.types.ts';
import {
  arrayBufferOf,
  createTestDataset,
  oneConnection,
  queryTestApp,
  queryTestDatabase,
} from './query.test-fixtures.ts';

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

  it('gives the connection back before the first byte is sent, so a client that never reads holds none', async () => {
    const single = await oneConnection();
    const server = await queryTestApp(db, adapters.cache, new Map([['owner', owner]]), single.pool);
    let readers: Awaited<ReturnType<typeof readersThatStall>> | undefined;
    try {
      const big = await createTestDataset(db.pool, {
        ownerId: owner.userId,
        columns: [{ name: 'n', type: 'integer' }],
      });
      await db.pool.query(`INSERT INTO ${qualifiedTable(big)} (n) SELECT generate_series(1, 200000)`);
      const url = await server.listen({ host: '127.0.0.1', port: 0 });
      // Three downloads that read nothing at all past the head, over a pool of one connection.
      readers = await readersThatStall(url, `/api/v1/data/datasets/${big.name}/export`, as('owner'), 3);
      expect(readers.heads).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
      expect(single.pool.idleCount).toBe(1);
      const again = await server.inject({
        url: `/api/v1/data/datasets/${dataset.name}/export`,
        headers: as('owner'),
      });
      expect(again.body).toBe(CSV);
    } finally {
      readers?.close();
      await server.close();
      await single.close();
    }
  });
});
