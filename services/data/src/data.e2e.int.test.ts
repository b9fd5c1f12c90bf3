import ExcelJS from 'exceljs';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Platform, type RunningService } from '@datalab/platform';
import { startTestGateway, type TestGateway } from '../../../test/gateway.ts';
import { testEnv, testPlatform, uniqueName } from '../../../test/helpers.ts';
import { uploadForm } from '../../../test/internal.ts';
import { dataService } from './definition.ts';

/** The values every format's file holds; what comes back must equal them. */
const ROWS = [
  { code: '007', city: 'Lyon, "la belle"', note: 'two\nlines', day: '2024-02-29', amount: 12.5, count: 3 },
  { code: '042', city: 'Zürich 🏔', note: null, day: '1999-12-31', amount: -0.25, count: 0 },
  { code: '100', city: 'São Paulo', note: 'tab\there', day: '2000-01-01', amount: 1e6, count: -7 },
];
const TYPES = { code: 'text', city: 'text', note: 'text', day: 'date', amount: 'float', count: 'integer' };
const NAMES = Object.keys(TYPES);

function csvOf(): string {
  const cell = (value: string | number | null) =>
    value === null ? '' : `"${String(value).replace(/"/g, '""')}"`;
  return `${NAMES.join(',')}\n${ROWS.map((row) => NAMES.map((n) => cell(row[n as keyof typeof row])).join(',')).join('\n')}\n`;
}

function ndjsonOf(): string {
  return ROWS.map((row) => JSON.stringify(row)).join('\n');
}

function parquetOf(): Blob {
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'code', data: ROWS.map((r) => r.code) },
      { name: 'city', data: ROWS.map((r) => r.city) },
      { name: 'note', data: ROWS.map((r) => r.note) },
      { name: 'day', data: ROWS.map((r) => new Date(`${r.day}T00:00:00Z`).getTime() / 86_400_000) },
      { name: 'amount', data: ROWS.map((r) => r.amount) },
      { name: 'count', data: ROWS.map((r) => BigInt(r.count)) },
    ],
    schema: [
      { name: 'root', num_children: 6 },
      { name: 'code', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'city', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'note', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'day', type: 'INT32', converted_type: 'DATE', repetition_type: 'REQUIRED' },
      { name: 'amount', type: 'DOUBLE', repetition_type: 'REQUIRED' },
      { name: 'count', type: 'INT64', repetition_type: 'REQUIRED' },
    ],
  });
  return new Blob([buffer]);
}

async function xlsxOf(): Promise<Blob> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('data');
  sheet.addRow(NAMES);
  for (const row of ROWS) {
    sheet.addRow([row.code, row.city, row.note, new Date(`${row.day}T00:00:00Z`), row.amount, row.count]);
  }
  return new Blob([await book.xlsx.writeBuffer()]);
}

describe('a dataset end to end through the gateway: upload → query → export', () => {
  let platform: Platform;
  let data: RunningService;
  let gw: TestGateway;
  let token: string;

  beforeAll(async () => {
    platform = await testPlatform();
    data = await startService(dataService, platform, { env: testEnv({ QUERY_TIMEOUT_MS: '1500' }), port: 0 });
    gw = await startTestGateway({ DATA_SERVICE_URL: data.url }, platform);
    token = await gw.login(await gw.createUser('editor'));
  });
  afterAll(async () => {
    await gw.close();
    await data.close();
    await platform.close();
  });

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${gw.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
  const sql = (query: string, format = 'json') =>
    api(`/api/v1/data/query?format=${format}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql: query }),
    });

  it.each([
    ['CSV', 'cities.csv', async () => csvOf(), { types: JSON.stringify({ code: 'text' }) }],
    ['NDJSON', 'cities.ndjson', async () => ndjsonOf(), {}],
    ['Parquet', 'cities.parquet', async () => parquetOf(), {}],
    ['Excel', 'cities.xlsx', xlsxOf, {}],
  ] as const)(
    '%s: the values and types that go in come back out, by query and by CSV export',
    async (_label, file, make, fields) => {
      const name = uniqueName('trip');
      const uploaded = await api('/api/v1/data/datasets', {
        method: 'POST',
        body: uploadForm(await make(), file, { name, ...fields }),
      });
      expect(uploaded.status).toBe(201);

      const response = await sql(`SELECT code, city, note, day, amount, count FROM ${name} ORDER BY code`);
      expect(response.status).toBe(200);
      const answer = (await response.json()) as {
        columns: { name: string; type: string }[];
        rows: unknown[][];
      };
      expect(Object.fromEntries(answer.columns.map((c) => [c.name, c.type]))).toEqual(TYPES);
      expect(answer.rows).toEqual(ROWS.map((row) => NAMES.map((n) => row[n as keyof typeof row])));

      const exported = await api(`/api/v1/data/datasets/${name}/export?format=csv`);
      const records = parseCsv<Record<string, string>>(await exported.text(), { columns: true });
      const sorted = records.sort((a, b) => a.code!.localeCompare(b.code!));
      expect(sorted.map((r) => NAMES.map((n) => r[n]))).toEqual(
        ROWS.map((row) =>
          NAMES.map((n) => (row[n as keyof typeof row] === null ? '' : String(row[n as keyof typeof row]))),
        ),
      );
    },
  );

  it('refuses SQL that writes, escapes, sleeps or reads outside the caller’s datasets', async () => {
    const mine = uniqueName('mine');
    await api('/api/v1/data/datasets', {
      method: 'POST',
      body: uploadForm('a\n1\n', 'm.csv', { name: mine }),
    });
    const others = await startTestGateway({ DATA_SERVICE_URL: data.url }, platform);
    const stranger = await others.login(await others.createUser('editor'));
    const secret = uniqueName('secret');
    await fetch(`${others.url}/api/v1/data/datasets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stranger}` },
      body: uploadForm('a\n1\n', 's.csv', { name: secret }),
    });
    await others.close();

    const refused = [
      `DROP TABLE ${mine}`,
      `INSERT INTO ${mine} VALUES (2)`,
      `UPDATE ${mine} SET a = 3`,
      `COPY ${mine} TO STDOUT`,
      `SELECT 1; SELECT 2`,
      'SELECT pg_sleep(600)',
      "SELECT pg_read_file('/etc/passwd')",
      "SELECT * FROM dblink('host=127.0.0.1', 'select 1') AS t(x int)",
      'SELECT * FROM auth.users',
      `SELECT * FROM ${secret}`,
      `WITH gone AS (DELETE FROM ${mine} RETURNING *) SELECT * FROM gone`,
      'SET ROLE postgres',
      "SELECT set_config('role', 'postgres', true)",
    ];
    for (const query of refused) {
      const response = await sql(query);
      expect({ query, status: response.status }).toEqual({
        query,
        status: response.status >= 400 && response.status < 500 ? response.status : 'not a 4xx',
      });
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
    const still = (await (await sql(`SELECT count(*) AS n FROM ${mine}`)).json()) as { rows: unknown[][] };
    expect(still.rows).toEqual([[1]]);
  });

  it('stops a runaway query at the time limit and keeps answering', async () => {
    const started = performance.now();
    const runaway = await sql('SELECT count(*) FROM generate_series(1, 10000000000)');
    expect(runaway.status).toBe(400);
    expect(((await runaway.json()) as { detail: string }).detail).toMatch(/time limit|longer than/);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect((await sql('SELECT 1 AS one')).status).toBe(200);
  });

  it('answers a repeated query from the cache, and freshly after an append', async () => {
    const name = uniqueName('cached');
    await api('/api/v1/data/datasets', { method: 'POST', body: uploadForm('n\n1\n2\n', 'c.csv', { name }) });
    const query = `SELECT sum(n) AS total FROM ${name}`;

    const first = await sql(query);
    const second = await sql(query);
    expect([first.headers.get('x-datalab-cache'), second.headers.get('x-datalab-cache')]).toEqual([
      'miss',
      'hit',
    ]);
    expect(await second.json()).toMatchObject({ rows: [[3]] });
    const metrics = await (await fetch(`${data.url}/metrics`)).text();
    expect(metrics).toMatch(/data_query_cache_total\{[^}]*result="hit"[^}]*\} [1-9]/);

    await api(`/api/v1/data/datasets/${name}/versions?mode=append`, {
      method: 'POST',
      body: uploadForm('n\n10\n', 'more.csv'),
    });
    const fresh = await sql(query);
    expect(fresh.headers.get('x-datalab-cache')).toBe('miss');
    expect(await fresh.json()).toMatchObject({ rows: [[13]] });
  });
});
