import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { inject } from 'vitest';
import { connectDatabase, startService, type Platform, type RunningService } from '@datalab/platform';
import { silentLogger, testEnv, testPlatform, uniqueName } from '../../../../test/helpers.ts';
import { callAs, person, uploadForm } from '../../../../test/internal.ts';
import { queryOnce, spawnTs } from '../../../../test/processes.ts';
import { dataService } from '../definition.ts';
import { fingerprintDifference, fingerprintQuery } from './fingerprint.ts';
import type { Dataset } from '../datasets/datasets.types.ts';
import path from 'node:path';
import os from 'node:os';

/**
 * Datasets made before versions had Parquet files live only in a PostgreSQL
 * table. `datalab migrate` moves them, and the values must come out exactly:
 * these rows hold what PostgreSQL and DuckDB write differently.
 */

const dataDir = path.join(os.tmpdir(), 'datalab-test-data');
const CSV =
  'id,label,score,ok,day,at,doc\n1,plain,1.5,true,2024-01-02,2024-01-02T03:04:05.123456Z,"{""a"": 1}"\n';
const AWKWARD_ROWS = `
  (2, '', 'NaN', false, '0044-03-15 BC', '0044-03-15 12:00:00+00 BC', '[]'),
  (3, NULL, 'Infinity', NULL, 'infinity', '-infinity', 'null'),
  (4, E'tab\\there, "quoted", line\\nbreak, back\\\\slash', '-0', true, '9999-12-31', '1970-01-01 00:00:00+00', '{"k": "v\\"q"}'),
  (5, '\\N', 1e300, false, NULL, NULL, NULL),
  (6, 'ünïcødé ✓ 𝄞', -1e-300, true, '2000-02-29', '2000-02-29 23:59:59.999999+05:30', '{"nested": {"x": [1, 2.5, "s"]}}')`;

async function readParquet(file: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT id, label, score::VARCHAR AS score, ok, day::VARCHAR AS day, "at"::VARCHAR AS "at", doc::VARCHAR AS doc
       FROM read_parquet('${file}') ORDER BY id`,
    );
    return reader.getRowObjectsJson();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('dataset tables move into Parquet versions', () => {
  let platform: Platform;
  let data: RunningService;
  const owner = person('editor');

  // A catalog of its own: every data-service that starts moves the old datasets it finds into
  // its own storage folder, so one started by another test file must never see these.
  const database = uniqueName('moves').toLowerCase();
  const databaseUrl = (() => {
    const url = new URL(inject('databaseUrl'));
    url.pathname = `/${database}`;
    return url.toString();
  })();

  beforeAll(async () => {
    await queryOnce(inject('databaseUrl'), `CREATE DATABASE ${database}`);
    platform = await testPlatform({ DATABASE_URL: databaseUrl });
    data = await startService(dataService, platform, {
      env: testEnv({ DATABASE_URL: databaseUrl }),
      port: 0,
    });
  });
  afterAll(async () => {
    await data.close();
    await platform.close();
    await queryOnce(inject('databaseUrl'), `DROP DATABASE ${database} WITH (FORCE)`);
  });

  async function oldDataset(): Promise<Dataset> {
    const name = uniqueName('moved');
    const response = await callAs(platform, data, owner, '/api/v1/data/datasets', {
      method: 'POST',
      body: uploadForm(CSV, 'old.csv', { name, types: JSON.stringify({ at: 'timestamp', doc: 'json' }) }),
    });
    expect(response.status).toBe(201);
    const [row] = await queryOnce(
      platform.databaseUrl,
      `SELECT id, table_name FROM data.datasets WHERE name = '${name}'`,
    );
    // As a dataset made before this release: rows only in its table, no version file.
    await queryOnce(
      platform.databaseUrl,
      `INSERT INTO datasets."${String(row!.table_name)}" (id, label, score, ok, day, at, doc) VALUES ${AWKWARD_ROWS};
       UPDATE data.datasets SET files = '[]' WHERE id = '${String(row!.id)}'`,
    );
    const [dataset] = await queryOnce(
      platform.databaseUrl,
      `SELECT * FROM data.datasets WHERE name = '${name}'`,
    );
    return {
      ...(dataset as unknown as Dataset),
      tableName: String(dataset!.table_name),
    };
  }

  it('`datalab migrate` writes each old table as a version whose values are exactly the table’s', async () => {
    const dataset = await oldDataset();
    const run = spawnTs('packages/cli/src/main.ts', ['migrate', 'data-service'], {
      DATABASE_URL: databaseUrl,
      DATALAB_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    });
    expect((await run.exited).code, run.output()).toBe(0);

    const [after] = await queryOnce(
      platform.databaseUrl,
      `SELECT files FROM data.datasets WHERE id = '${dataset.id}'`,
    );
    const files = after!.files as string[];
    expect(files).toHaveLength(1);
    const rows = await readParquet(path.join(dataDir, 'datasets', ...files[0]!.split('/')));
    expect(rows).toEqual([
      {
        id: '1',
        label: 'plain',
        score: '1.5',
        ok: true,
        day: '2024-01-02',
        at: '2024-01-02 03:04:05.123456+00',
        doc: '{"a": 1}',
      },
      {
        id: '2',
        label: '',
        score: 'nan',
        ok: false,
        day: '0044-03-15 (BC)',
        at: '0044-03-15 (BC) 12:00:00+00',
        doc: '[]',
      },
      { id: '3', label: null, score: 'inf', ok: null, day: 'infinity', at: '-infinity', doc: 'null' },
      {
        id: '4',
        label: 'tab\there, "quoted", line\nbreak, back\\slash',
        score: '-0.0',
        ok: true,
        day: '9999-12-31',
        at: '1970-01-01 00:00:00+00',
        doc: '{"k": "v\\"q"}',
      },
      { id: '5', label: '\\N', score: '1e+300', ok: false, day: null, at: null, doc: null },
      {
        id: '6',
        label: 'ünïcødé ✓ 𝄞',
        score: '-1e-300',
        ok: true,
        day: '2000-02-29',
        at: '2000-02-29 18:29:59.999999+00',
        doc: '{"nested": {"x": [1, 2.5, "s"]}}',
      },
    ]);
  });

  it('tells a changed value from an equal one, in every column type', async () => {
    const dataset = await oldDataset();
    const fingerprint = fingerprintQuery(dataset, 'postgres');
    const db = await connectDatabase({
      url: databaseUrl,
      poolSize: 1,
      connectTimeoutMs: 5000,
      applicationName: 'datalab-test',
      logger: silentLogger,
    });
    const client = await db.pool.connect();
    const measure = async () =>
      (await client.query<(string | null)[]>({ text: fingerprint.sql, rowMode: 'array' })).rows[0]!;
    try {
      const before = await measure();
      expect(fingerprintDifference(fingerprint, before, before)).toBeUndefined();
      for (const change of [
        `label = 'plain!'`,
        'score = 1.5000001',
        'ok = NOT ok',
        'day = day + 1',
        "at = at + interval '1 microsecond'",
        `doc = '{"a": 2}'`,
        'id = 7',
      ]) {
        await client.query('BEGIN');
        await client.query(`UPDATE datasets."${dataset.tableName}" SET ${change} WHERE id = 1`);
        expect(fingerprintDifference(fingerprint, before, await measure()), change).toBeDefined();
        await client.query('ROLLBACK');
      }
    } finally {
      client.release();
      await db.close();
    }
  });
});
