import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Platform, type RunningService } from '@datalab/platform';
import { testEnv, testPlatform, uniqueName } from '../../../../test/helpers.ts';
import { callAs, person, uploadForm } from '../../../../test/internal.ts';
import { queryOnce } from '../../../../test/processes.ts';
import { dataService } from '../definition.ts';

const DATASETS = '/api/v1/data/datasets';

describe('datasets: upload, versions, browse metadata, delete', () => {
  let platform: Platform;
  let data: RunningService;
  const owner = person('editor');
  const other = person('editor');
  const viewer = person('viewer');

  beforeAll(async () => {
    platform = await testPlatform();
    data = await startService(dataService, platform, {
      env: testEnv({ DATA_MAX_UPLOAD_BYTES: String(1024 * 1024) }),
      port: 0,
    });
  });
  afterAll(async () => {
    await data.close();
    await platform.close();
  });

  const as = (who: typeof owner, path: string, init?: RequestInit) => callAs(platform, data, who, path, init);
  const upload = (
    who: typeof owner,
    csv: string | Blob,
    fields: Record<string, string>,
    filename = 'data.csv',
    path = DATASETS,
  ) => as(who, path, { method: 'POST', body: uploadForm(csv, filename, fields) });

  /** Tables in schema datasets that no dataset points to: a failed upload must leave none. */
  async function orphanTables(): Promise<unknown[]> {
    return queryOnce(
      platform.databaseUrl,
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'datasets' AND c.relkind = 'r'
         AND c.relname NOT IN (SELECT table_name FROM data.datasets)`,
    );
  }

  it('creates a dataset from a CSV with inferred types and safe column names', async () => {
    const name = uniqueName('cities');
    const csv =
      'City Name,Population,Founded,Code\nLyon,522250,-43-01-01,007\nNantes,320732,1100-05-01,044\n';
    const response = await upload(owner, csv, { name, description: 'French cities' });
    const body = (await response.json()) as { dataset: Record<string, unknown>; rows_written: number };

    expect(response.status).toBe(201);
    expect(body.rows_written).toBe(2);
    expect(body.dataset).toMatchObject({
      name,
      description: 'French cities',
      version: 1,
      row_count: 2,
      visibility: 'private',
    });
    expect(body.dataset.columns).toEqual([
      { name: 'city_name', original_name: 'City Name', type: 'text' },
      { name: 'population', original_name: 'Population', type: 'integer' },
      { name: 'founded', original_name: 'Founded', type: 'text' },
      { name: 'code', original_name: 'Code', type: 'text' },
    ]);
    const got = await as(owner, `${DATASETS}/${name}`);
    expect(((await got.json()) as { id: string }).id).toBe(body.dataset.id);
  });

  it('appends rows as a new version, and replaces the contents as another', async () => {
    const name = uniqueName('sales');
    await upload(owner, 'day,amount\n2024-01-01,10\n', { name });
    const appended = await upload(
      owner,
      'day,amount\n2024-01-02,20\n',
      {},
      'more.csv',
      `${DATASETS}/${name}/versions?mode=append`,
    );
    expect(appended.status).toBe(201);
    expect(
      ((await appended.json()) as { dataset: { version: number; row_count: number } }).dataset,
    ).toMatchObject({ version: 2, row_count: 2 });

    const wrongColumns = await upload(
      owner,
      'when,how_much\n2024-01-03,5\n',
      {},
      'x.csv',
      `${DATASETS}/${name}/versions?mode=append`,
    );
    expect(wrongColumns.status).toBe(400);

    const replaced = await upload(
      owner,
      'region,total\nwest,1\neast,2\nnorth,3\n',
      {},
      'r.csv',
      `${DATASETS}/${name}/versions?mode=replace`,
    );
    const dataset = (
      (await replaced.json()) as {
        dataset: { version: number; row_count: number; columns: { name: string }[] };
      }
    ).dataset;
    expect(dataset.version).toBe(3);
    expect(dataset.row_count).toBe(3);
    expect(dataset.columns.map((c) => c.name)).toEqual(['region', 'total']);
    const versions = (await (await as(owner, `${DATASETS}/${name}/versions`)).json()) as {
      versions: { mode: string }[];
    };
    expect(versions.versions.map((v) => v.mode)).toEqual(['replace', 'append', 'create']);
    expect(await orphanTables()).toEqual([]);
  });

  it('refuses bad files with the place named, leaving no table and no metadata behind', async () => {
    const cases: [string, string | Blob, string, number][] = [
      ['unbalanced quote', 'a,b\n1,"open\n2,3\n', 'q.csv', 400],
      ['ragged rows', 'a,b\n1,2\n3,4,5\n', 'r.csv', 400],
      ['empty file', '', 'e.csv', 400],
      ['binary named .csv', new Blob([randomBytes(4096)]), 'b.csv', 400],
      [
        'a tiny binary header',
        new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 1, 2, 0, 3])]),
        'p.csv',
        400,
      ],
      ['over the size limit', new Blob([`a\n${'12345\n'.repeat(300_000)}`]), 'big.csv', 413],
      [
        'a header of 20,000 columns',
        `${Array.from({ length: 20_000 }, (_, i) => `c${i}`).join(',')}\n${'1,'.repeat(19_999)}1\n`,
        'wide.csv',
        413,
      ],
      [
        'invalid UTF-8 after a valid start',
        new Blob([`a,b\n${'1,é\n'.repeat(30_000)}`, new Uint8Array([0x32, 0x2c, 0xff, 0x0a])]),
        'u.csv',
        400,
      ],
    ];
    const places: Record<string, string> = {};
    for (const [label, content, filename, status] of cases) {
      const name = uniqueName('bad');
      const response = await upload(owner, content, { name }, filename);
      expect({ label, status: response.status }).toEqual({ label, status });
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await response.json()) as { errors?: { field: string }[] };
      places[label] = problem.errors?.[0]?.field ?? '';
      expect((await as(owner, `${DATASETS}/${name}`)).status).toBe(404);
    }
    expect(places).toMatchObject({
      'unbalanced quote': 'line 2',
      'ragged rows': 'line 3',
      'a header of 20,000 columns': 'line 1',
      'invalid UTF-8 after a valid start': 'line 30002',
    });
    expect(await orphanTables()).toEqual([]);
  });

  it('names the row, column, value and expected type of a value that does not fit', async () => {
    const name = uniqueName('typed');
    const rows = Array.from({ length: 49_999 }, (_, i) => `${i},x`).join('\n');
    const response = await upload(owner, `n,label\n${rows}\nnot-a-number,y\n`, { name });
    const problem = (await response.json()) as {
      errors: { field: string }[];
      rows: { line: number; column: string; value: string; expected: string }[];
    };

    expect(response.status).toBe(400);
    expect(problem.rows[0]).toMatchObject({
      line: 50_001,
      column: 'n',
      value: 'not-a-number',
      expected: 'integer',
    });
    expect(problem.errors[0]?.field).toBe('line 50001, column n');
    expect((await as(owner, `${DATASETS}/${name}`)).status).toBe(404);
  });

  it('with on_error=skip loads the valid rows and offers the rejected ones for download', async () => {
    const name = uniqueName('skip');
    // The type is given: inferred from these rows, `n` would simply be text.
    const types = JSON.stringify({ n: 'integer' });
    const response = await upload(owner, 'n,label\n1,a\nbad,b\n3,c\n', { name, on_error: 'skip', types });
    const body = (await response.json()) as {
      rows_written: number;
      rejects: { count: number; first: { line: number }[]; download: string };
    };

    expect(response.status).toBe(201);
    expect(body.rows_written).toBe(2);
    expect(body.rejects.count).toBe(1);
    expect(body.rejects.first[0]?.line).toBe(3);
    const download = await as(owner, body.rejects.download);
    expect(download.headers.get('content-type')).toContain('text/csv');
    expect(await download.text()).toContain('bad');
  });

  it('keeps private datasets to their owner, shows shared ones, and lets only the owner change them', async () => {
    const name = uniqueName('private');
    const id = ((await (await upload(owner, 'a\n1\n', { name })).json()) as { dataset: { id: string } })
      .dataset.id;

    expect((await as(other, `${DATASETS}/${id}`)).status).toBe(404);
    const list = (await (await as(other, `${DATASETS}?search=${name}`)).json()) as { total: number };
    expect(list.total).toBe(0);
    expect((await upload(viewer, 'a\n1\n', { name: uniqueName('viewer') })).status).toBe(403);

    await as(owner, `${DATASETS}/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: '{"visibility":"shared"}',
    });
    expect((await as(other, `${DATASETS}/${id}`)).status).toBe(200);
    expect((await as(other, `${DATASETS}/${id}`, { method: 'DELETE' })).status).toBe(403);
  });

  it('deletes a dataset: its table and its metadata', async () => {
    const name = uniqueName('gone');
    await upload(owner, 'a\n1\n', { name });
    expect((await as(owner, `${DATASETS}/${name}`, { method: 'DELETE' })).status).toBe(204);
    expect((await as(owner, `${DATASETS}/${name}`)).status).toBe(404);
    expect(await orphanTables()).toEqual([]);
  });

  it('refuses a name that is not an identifier and a name already taken', async () => {
    expect((await upload(owner, 'a\n1\n', { name: 'Robert"); DROP TABLE x;--' })).status).toBe(400);
    const name = uniqueName('taken');
    await upload(owner, 'a\n1\n', { name });
    expect((await upload(other, 'a\n1\n', { name })).status).toBe(409);
  });
});
