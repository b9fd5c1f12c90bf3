import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { startService, type Platform, type Principal, type RunningService } from '@datalab/platform';
import { testEnv, testPlatform, uniqueName } from '../../../../test/helpers.ts';
import { callAs, uploadForm } from '../../../../test/internal.ts';
import { queryOnce } from '../../../../test/processes.ts';
import type { ColumnType } from '../datasets/datasets.types.ts';
import { dataService } from '../definition.ts';

/** A real data-service, datasets uploaded to it as users upload them, and calls as a given caller. */

export interface FixtureColumn {
  name: string;
  type: ColumnType;
}

/** Rows to upload: values in column order (null for an empty cell), written out as CSV. */
export type FixtureRows = readonly (readonly unknown[])[];

export interface DatasetFixture {
  id: string;
  name: string;
  columns: FixtureColumn[];
}

export interface BrowseResponse {
  statusCode: number;
  headers: Headers;
  body: string;
  json<T>(): T;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A CSV whose header is the column names in capitals (so original names differ from the SQL names). */
export function csvOf(columns: readonly FixtureColumn[], rows: FixtureRows): string {
  const header = columns.map((column) => column.name.toUpperCase()).join(',');
  return `${[header, ...rows.map((row) => row.map(cell).join(','))].join('\n')}\n`;
}

/** A Parquet file of the rows of a DuckDB SELECT, written by DuckDB. */
export async function parquetOf(select: string): Promise<Blob> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'datalab-parquet-'));
  const file = path.join(dir, 'rows.parquet');
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    await connection.run(`COPY (${select}) TO '${file}' (FORMAT parquet)`);
    return new Blob([await readFile(file)]);
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

export interface BrowseService {
  platform: Platform;
  data: RunningService;
  /** Where the service keeps dataset files (DATA_STORAGE_DIR). */
  storageDir: string;
  get(caller: Principal, url: string): Promise<BrowseResponse>;
  /** A new dataset of `owner` with these columns (types as given, not inferred) and rows. */
  dataset(
    owner: Principal,
    columns: FixtureColumn[],
    rows: FixtureRows,
    options?: { visibility?: 'private' | 'shared' },
  ): Promise<DatasetFixture>;
  /** A new dataset of `owner` from a file as it is (its format by its name), with `fields` as upload options. */
  upload(
    owner: Principal,
    file: Blob,
    filename: string,
    fields?: Record<string, string>,
  ): Promise<DatasetFixture>;
  /** Appends rows: the dataset's next version. */
  append(owner: Principal, fixture: DatasetFixture, rows: FixtureRows): Promise<void>;
  /** Storage keys of the dataset's current version, from the catalog. */
  filesOf(fixture: DatasetFixture): Promise<string[]>;
  close(): Promise<void>;
}

export async function startBrowseService(): Promise<BrowseService> {
  const storageDir = await mkdtemp(path.join(os.tmpdir(), 'datalab-browse-'));
  const env = testEnv({ DATA_STORAGE_DIR: storageDir });
  const platform = await testPlatform(env);
  const data = await startService(dataService, platform, { env, port: 0 });
  const call = async (caller: Principal, url: string, init?: RequestInit): Promise<BrowseResponse> => {
    const response = await callAs(platform, data, caller, url, init);
    const body = await response.text();
    return {
      statusCode: response.status,
      headers: response.headers,
      body,
      json: <T>() => JSON.parse(body) as T,
    };
  };
  const upload = async (
    owner: Principal,
    url: string,
    file: Blob | string,
    filename: string,
    fields: Record<string, string>,
  ) => {
    const form = uploadForm(file, filename, fields);
    const response = await call(owner, url, { method: 'POST', body: form });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ dataset: { id: string; name: string } }>().dataset;
  };
  return {
    platform,
    data,
    storageDir,
    get: (caller, url) => call(caller, url),
    async dataset(owner, columns, rows, options = {}) {
      const types = Object.fromEntries(columns.map((column) => [column.name, column.type]));
      const { id, name } = await upload(owner, '/api/v1/data/datasets', csvOf(columns, rows), 'rows.csv', {
        name: uniqueName('browse'),
        visibility: options.visibility ?? 'private',
        types: JSON.stringify(types),
      });
      return { id, name, columns };
    },
    async upload(owner, file, filename, fields = {}) {
      const answer = await upload(owner, '/api/v1/data/datasets', file, filename, {
        name: uniqueName('browse'),
        ...fields,
      });
      const columns = await call(owner, `/api/v1/data/datasets/${answer.id}`);
      return { ...answer, columns: columns.json<{ columns: FixtureColumn[] }>().columns };
    },
    async append(owner, fixture, rows) {
      const url = `/api/v1/data/datasets/${fixture.id}/versions`;
      await upload(owner, url, csvOf(fixture.columns, rows), 'rows.csv', { mode: 'append' });
    },
    async filesOf(fixture) {
      // The id is a UUID the service made, safe to write into the SQL.
      expect(fixture.id).toMatch(/^[0-9a-f-]{36}$/);
      const found = await queryOnce(
        platform.databaseUrl,
        `SELECT files FROM data.datasets WHERE id = '${fixture.id}'`,
      );
      return (found[0]?.files as string[] | undefined) ?? [];
    },
    close: async () => {
      await data.close();
      await platform.close();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}
