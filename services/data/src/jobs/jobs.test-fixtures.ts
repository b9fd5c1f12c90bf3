import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { expect, inject } from 'vitest';
import { computeService } from '@datalab/compute-service';
import {
  loadConfig,
  startService,
  type Env,
  type Platform,
  type Principal,
  type RunningService,
} from '@datalab/platform';
import { testEnv, testPlatform, uniqueName } from '../../../../test/helpers.ts';
import { callAs, uploadForm } from '../../../../test/internal.ts';
import { queryOnce } from '../../../../test/processes.ts';
import { dataConfigSchema } from '../config.ts';
import type { DatasetColumn } from '../datasets/datasets.types.ts';
import { readAll } from '../engine/run-statement.ts';
import { dataService } from '../definition.ts';
import { openDatasetFiles } from '../versions/dataset-files.ts';

/** Data job tests: a database of their own, the data-service and the compute-service running jobs in process. */

export const JOBS = '/api/v1/compute/jobs';

export interface JobView {
  id: string;
  state: string;
  progress: number;
  progress_message: string | null;
  attempts: number;
  result: unknown;
  error: { message: string } | null;
}

export interface DataJobs {
  platform: Platform;
  /** What the services run with; a `datalab worker` spawned with it shares their database and Redis. */
  env: Env;
  data: RunningService;
  compute: RunningService;
  databaseUrl: string;
  /** The dataset storage's folder, this test file's own. */
  storageDir: string;
  call: <T>(
    as: Principal,
    service: RunningService,
    method: string,
    path: string,
    body?: unknown,
  ) => Promise<{ status: number; body: T }>;
  close: () => Promise<void>;
}

/**
 * Both services on a fresh database (a reconciler dispatches every queued job it sees), with in-memory
 * adapters (jobs run in process) unless `extra` gives a REDIS_URL.
 */
export async function startDataJobs(extra: Env = {}): Promise<DataJobs> {
  const server = inject('databaseUrl');
  const name = uniqueName('data_jobs_test');
  await queryOnce(server, `CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const queryUrl = new URL(inject('queryDatabaseUrl'));
  queryUrl.pathname = `/${name}`;
  const storageDir = await mkdtemp(path.join(tmpdir(), 'datalab-jobs-storage-'));
  const env = testEnv({
    DATABASE_URL: databaseUrl,
    DATA_STORAGE_DIR: storageDir,
    QUERY_DATABASE_URL: queryUrl.toString(),
    REDIS_URL: undefined,
    RECONCILE_INTERVAL_MS: '500',
    // No gateway here: jobs run with the rights they were submitted with.
    JOB_OWNER_CHECK: 'off',
    ...extra,
  });
  const platform = await testPlatform(env);
  const data = await startService(dataService, platform, { env, port: 0 });
  const compute = await startService(computeService, platform, { env, port: 0 });
  return {
    platform,
    env,
    data,
    compute,
    databaseUrl,
    storageDir,
    call: async <T>(as: Principal, service: RunningService, method: string, path: string, body?: unknown) => {
      const init: RequestInit =
        body === undefined
          ? { method }
          : body instanceof FormData
            ? { method, body }
            : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
      const response = await callAs(platform, service, as, path, init);
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    close: async () => {
      await compute.close();
      await data.close();
      await platform.close();
      await queryOnce(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}

/** Uploads `csv` as a dataset of `owner` and returns its id and name. */
export async function uploadCsv(
  jobs: DataJobs,
  owner: Principal,
  csv: string,
  fields: Record<string, string> = {},
): Promise<{ id: string; name: string }> {
  const name = fields.name ?? uniqueName('ds');
  const answer = await jobs.call<{ dataset: { id: string; name: string } }>(
    owner,
    jobs.data,
    'POST',
    '/api/v1/data/datasets',
    uploadForm(csv, `${name}.csv`, { name, ...fields }),
  );
  expect(answer.status).toBe(201);
  return answer.body.dataset;
}

/** Submits a job and waits until it is in a final state. */
export async function runJob(
  jobs: DataJobs,
  owner: Principal,
  type: string,
  params: object,
  timeoutMs = 20_000,
): Promise<JobView> {
  const submitted = await jobs.call<JobView>(owner, jobs.compute, 'POST', JOBS, { type, params });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
  return waitForFinal(jobs, owner, submitted.body.id, timeoutMs);
}

export async function waitForFinal(
  jobs: DataJobs,
  owner: Principal,
  id: string,
  timeoutMs = 20_000,
): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await jobs.call<JobView>(owner, jobs.compute, 'GET', `${JOBS}/${id}`);
    if (['succeeded', 'failed', 'dead', 'cancelled'].includes(body.state)) return body;
    if (Date.now() > deadline) throw new Error(`job ${id} is still ${body.state}: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every row of a dataset in arrival order, through the query API as `owner`. */
export async function rowsOf(
  jobs: DataJobs,
  owner: Principal,
  name: string,
  columns = '*',
): Promise<{ columns: { name: string; type: string }[]; rows: unknown[][] }> {
  const answer = await jobs.call<{ columns: { name: string; type: string }[]; rows: unknown[][] }>(
    owner,
    jobs.data,
    'POST',
    '/api/v1/data/query',
    { sql: `SELECT ${columns} FROM ${name} ORDER BY _row_id` },
  );
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body;
}

/**
 * What the storage holds that no catalog entry names: files and version folders left by a
 * write that failed or was cancelled (its own storage, so other test files cannot add any).
 */
export async function unnamedInStorage(jobs: DataJobs): Promise<string[]> {
  const named = await queryOnce(
    jobs.databaseUrl,
    'SELECT jsonb_array_elements_text(files) AS key FROM data.datasets',
  );
  const keys = new Set(named.map((row) => String(row.key)));
  const folders = new Set([...keys].map((key) => key.split('/').slice(0, 3).join('/')));
  const found = await readdir(path.join(jobs.storageDir, 'versions'), { recursive: true }).catch(
    () => [] as string[],
  );
  return found
    .map((entry) => ['versions', ...entry.split(path.sep)].join('/'))
    .filter((key) => key.split('/').length > 2 && !keys.has(key) && !folders.has(key));
}

/**
 * A dataset's current version: the DuckDB types stored in its Parquet files (DESCRIBE in a plain
 * DuckDB: the engine's streamed answers do not carry the JSON type's name) and its rows in order,
 * read through the engine as the service reads them.
 */
export async function readVersion(
  jobs: DataJobs,
  datasetId: string,
): Promise<{ columns: { name: string; duckdbType: string }[]; rows: unknown[][] }> {
  const [entry] = await queryOnce(
    jobs.databaseUrl,
    `SELECT columns, files FROM data.datasets WHERE id = '${datasetId}'`,
  );
  const columns = (entry?.columns ?? []) as DatasetColumn[];
  const keys = (entry?.files ?? []) as string[];
  expect(keys.length, `dataset ${datasetId} names no file`).toBeGreaterThan(0);
  const files = await openDatasetFiles(
    loadConfig(dataConfigSchema, jobs.env),
    String(jobs.env.DATALAB_DATA_DIR),
  );
  const opened = await files.storage.open(keys);
  const plain = await DuckDBInstance.create(':memory:');
  const connection = await plain.connect();
  try {
    const list = opened.paths.map((file) => `'${file.replace(/'/g, "''")}'`).join(', ');
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet([${list}])`);
    const result = await files.engine.run({
      sql: 'SELECT * FROM version',
      datasets: { version: { files: opened.paths, columns: columns.map((column) => column.name) } },
      limits: { maxRows: 10_000, timeoutMs: 30_000 },
    });
    return {
      columns: described
        .getRows()
        .map(([name, duckdbType]) => ({ name: String(name), duckdbType: String(duckdbType) })),
      rows: (await readAll(result)).rows,
    };
  } finally {
    connection.closeSync();
    plain.closeSync();
    opened.release();
    await files.close();
  }
}
