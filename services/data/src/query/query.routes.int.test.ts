import { tableFromIPC } from 'apache-arrow';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Adapters, App, Database } from '@datalab/platform';
import { memoryAdapters } from '../../../../test/helpers.ts';
import { person } from '../../../../test/internal.ts';
import { qualifiedTable, type Dataset } from '../datasets/datasets.types.ts';
import {
  arrayBufferOf,
  bumpVersion,
  cacheHits,
  createTestDataset,
  queryTestApp,
  queryTestDatabase,
} from './query.test-fixtures.ts';

describe('POST /api/v1/data/query', () => {
  let db: Database;
  let adapters: Adapters;
  let app: App;
  const alice = person('editor');
  const bob = person('viewer');
  const callers = new Map([
    ['alice', alice],
    ['bob', bob],
  ]);
  let scores: Dataset;
  let hidden: Dataset;
  const as = (caller: string) => ({ 'x-test-caller': caller });

  beforeAll(async () => {
    db = await queryTestDatabase();
    adapters = memoryAdapters();
    app = await queryTestApp(db, adapters.cache, callers);
    scores = await createTestDataset(db.pool, {
      ownerId: alice.userId,
      visibility: 'shared',
      columns: [
        { name: 'player', type: 'text' },
        { name: 'points', type: 'integer' },
        { name: 'played_at', type: 'timestamp' },
      ],
      rows: [
        ['ana', 12, '2024-05-01T10:00:00.250Z'],
        ['bo, "the boss"', 7, '2024-05-02T11:30:00Z'],
        ['ana', 3, null],
      ],
    });
    hidden = await createTestDataset(db.pool, {
      ownerId: alice.userId,
      columns: [{ name: 'x', type: 'integer' }],
      rows: [[1]],
    });
  });
  afterAll(async () => {
    await app.close();
    await adapters.close();
    await db.close();
  });

  it('answers a structured query as JSON with column types', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/data/query',
      headers: as('bob'),
      payload: {
        dataset: scores.name,
        group_by: ['player'],
        aggregates: [{ fn: 'sum', column: 'points', as: 'total' }],
      },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('application/json');
    expect(response.json()).toEqual({
      columns: [
        { name: 'player', type: 'text' },
        { name: 'total', type: 'float' },
      ],
      rows: [
        ['ana', 15],
        ['bo, "the boss"', 7],
      ],
      row_count: 2,
      truncated: false,
    });
  });

  it('answers CSV when Accept asks for text/csv, with its length and the truncated flag as headers', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/data/query',
      headers: { ...as('bob'), accept: 'text/csv' },
      payload: { sql: `SELECT player, points, played_at FROM ${scores.name} ORDER BY points DESC` },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.body).toBe(
      'player,points,played_at\r\nana,12,2024-05-01T10:00:00.25Z\r\n"bo, ""the boss""",7,2024-05-02T11:30:00Z\r\nana,3,\r\n',
    );
    expect(response.headers['x-datalab-truncated']).toBe('false');
    expect(response.headers['content-length']).toBe(String(Buffer.byteLength(response.body)));
    expect(response.trailers).toEqual({});
  });

  it('answers an Arrow stream for ?format=arrow and Parquet when the body asks', async () => {
    const sql = `SELECT player, points FROM ${scores.name} ORDER BY points`;
    const arrow = await app.inject({
      method: 'POST',
      url: '/api/v1/data/query?format=arrow',
      headers: as('bob'),
      payload: { sql },
    });
    expect(arrow.headers['content-type']).toBe('application/vnd.apache.arrow.stream');
    expect(
      tableFromIPC(arrow.rawPayload)
        .toArray()
        .map((row: { toJSON: () => unknown }) => row.toJSON()),
    ).toEqual([
      { player: 'ana', points: 3n },
      { player: 'bo, "the boss"', points: 7n },
      { player: 'ana', points: 12n },
    ]);
    const parquet = await app.inject({
      method: 'POST',
      url: '/api/v1/data/query',
      headers: as('bob'),
      payload: { sql, format: 'parquet' },
    });
    expect(parquet.headers['content-type']).toBe('application/vnd.apache.parquet');
    expect(await parquetReadObjects({ file: arrayBufferOf(parquet.rawPayload) })).toEqual([
      { player: 'ana', points: 3n },
      { player: 'bo, "the boss"', points: 7n },
      { player: 'ana', points: 12n },
    ]);
  });

  it('serves a repeated query from the cache (the hit counter rises) and a new version fresh', async () => {
    const ask = () =>
      app.inject({
        method: 'POST',
        url: '/api/v1/data/query',
        headers: as('bob'),
        payload: { sql: `SELECT sum(points) AS total FROM ${scores.name}` },
      });
    const hitsBefore = cacheHits((await app.inject('/metrics')).body);
    const first = await ask();
    expect(first.headers['x-datalab-cache']).toBe('miss');
    const second = await ask();
    expect(second.headers['x-datalab-cache']).toBe('hit');
    expect(second.headers['x-datalab-truncated']).toBe('false');
    expect(second.json()).toEqual(first.json());
    const metrics = (await app.inject('/metrics')).body;
    expect(cacheHits(metrics)).toBe(hitsBefore + 1);
    expect(metrics).toMatch(
      /data_query_duration_seconds_count\{[^}]*kind="sql"[^}]*cached="true"[^}]*\} [1-9]/,
    );

    await db.pool.query(`INSERT INTO ${qualifiedTable(scores)} (player, points) VALUES ('cy', 100)`);
    await bumpVersion(db.pool, scores);
    const fresh = await ask();
    expect(fresh.headers['x-datalab-cache']).toBe('miss');
    expect(fresh.json()).toMatchObject({ rows: [[122]] });
    await db.pool.query(`DELETE FROM ${qualifiedTable(scores)} WHERE player = 'cy'`);
    await bumpVersion(db.pool, scores);
  });

  it('refuses unsafe SQL with a problem that names the place', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/data/query',
      headers: as('bob'),
      payload: { sql: `SELECT player,\n       pg_sleep(600) FROM ${scores.name}` },
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({
      detail: 'Function pg_sleep() is not allowed in a query (line 2, column 8)',
      errors: [{ field: '/body/sql' }],
      line: 2,
      column: 8,
    });
  });

  it("answers 404 for another user's private dataset", async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/data/query',
      headers: as('bob'),
      payload: { sql: `SELECT * FROM ${scores.name} JOIN ${hidden.name} ON true` },
    });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ detail: `Dataset "${hidden.name}" not found` });
  });

  it('refuses a malformed body, naming the field', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/data/query',
      headers: as('bob'),
      payload: { dataset: scores.name, filters: [{ column: 'points', op: 'like', value: 1 }] },
    });
    expect(response.statusCode).toBe(400);
    const fields = response.json<{ errors: { field: string }[] }>().errors.map((error) => error.field);
    expect(fields).toContain('/body/filters/0/op');
  });

  it('documents both routes with their four answer media types', async () => {
    const document = (await app.inject('/openapi.json')).json<{
      paths: Record<string, Record<string, { responses: Record<string, { content: object }> }>>;
    }>();
    const query = document.paths['/api/v1/data/query']?.post?.responses['200']?.content;
    expect(Object.keys(query ?? {})).toEqual([
      'application/json',
      'text/csv',
      'application/vnd.apache.arrow.stream',
      'application/vnd.apache.parquet',
    ]);
    expect(document.paths['/api/v1/data/datasets/{id}/export']?.get).toBeDefined();
  });

  it('refuses an anonymous caller', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/data/query',
      payload: { sql: 'SELECT 1' },
    });
    expect(response.statusCode).toBe(401);
  });
});
