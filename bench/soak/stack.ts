import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnCommand, stop, waitForStatus, type Cleanup, type Spawned } from '../lib/processes.ts';
import { call, UNLIMITED_RATES } from '../lib/setup-calls.ts';

/** What the soak drives: one `datalab up` as `npm start` runs it, and the objects its mix reads. */
export interface SoakStack {
  url: string;
  process: Spawned;
  /** The editor's API key (an access token would expire during the soak). */
  headers: Record<string, string>;
  datasetId: string;
  datasetName: string;
  chartId: string;
}

const ADMIN = { email: 'soak-admin@example.test', password: 'soak admin password 1234' };

/** A CSV of `rows` sales-like rows starting at `from`. */
export function salesCsv(from: number, rows: number): string {
  const regions = ['north', 'south', 'east', 'west'];
  const lines = ['id,region,day,amount,units'];
  for (let i = from; i < from + rows; i++) {
    const day = new Date(Date.UTC(2024, 0, 1 + (i % 365))).toISOString().slice(0, 10);
    lines.push(`${i},${regions[i % 4]},${day},${((i * 37) % 1000) / 10},${i % 13}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `datalab up` with nothing configured but a fresh data directory (embedded PostgreSQL, state in
 * memory, jobs in process), its first admin set by DATALAB_ADMIN_PASSWORD; then an editor with an
 * API key, a 20,000-row dataset and a saved chart of it.
 */
export async function startSoakStack(basePort: number, cleanup: Cleanup): Promise<SoakStack> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'datalab-soak-'));
  const up = spawnCommand(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', 'up'], {
    PORT: String(basePort),
    DATALAB_DATA_DIR: dataDir,
    DATALAB_EMBEDDED_PG_PORT: String(basePort + 10),
    DATALAB_ADMIN_EMAIL: ADMIN.email,
    DATALAB_ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: 'warn',
    ...UNLIMITED_RATES,
  });
  cleanup.add(() => stop(up, 30_000));
  const url = `http://127.0.0.1:${basePort}`;
  await waitForStatus(`${url}/health/ready`, 200, up, 300_000);

  const json = { 'content-type': 'application/json' };
  const admin = await call(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify(ADMIN),
  });
  const asAdmin = { ...json, authorization: `Bearer ${String(admin.access_token)}` };
  const editor = { email: 'soak-editor@example.test', password: 'soak editor password 1234' };
  await call(`${url}/api/v1/admin/users`, {
    method: 'POST',
    headers: asAdmin,
    body: JSON.stringify({ ...editor, role: 'editor' }),
  });
  const login = await call(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify(editor),
  });
  const key = await call(`${url}/api/v1/auth/api-keys`, {
    method: 'POST',
    headers: { ...json, authorization: `Bearer ${String(login.access_token)}` },
    body: JSON.stringify({ name: 'soak' }),
  });
  const headers = { 'x-api-key': String(key.key) };

  const form = new FormData();
  form.append('name', 'soak_sales');
  form.append('file', new Blob([salesCsv(0, 20_000)]), 'soak_sales.csv');
  const upload = await call(`${url}/api/v1/data/datasets`, { method: 'POST', headers, body: form });
  const dataset = upload.dataset as { id: string; name: string };
  const chart = await call(`${url}/api/v1/viz/charts`, {
    method: 'POST',
    headers: { ...headers, ...json },
    body: JSON.stringify({
      title: 'soak: amount by region',
      spec: {
        mark: 'bar',
        data: { dataset: dataset.name },
        encoding: {
          x: { field: 'region', type: 'nominal' },
          y: { aggregate: 'sum', field: 'amount', type: 'quantitative' },
        },
      },
    }),
  });
  return {
    url,
    process: up,
    headers,
    datasetId: dataset.id,
    datasetName: dataset.name,
    chartId: String(chart.id),
  };
}
