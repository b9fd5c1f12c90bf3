import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  connectDatabase,
  loadConfig,
  startService,
  type Database,
  type Env,
  type Platform,
  type RunningService,
} from '@datalab/platform';
import { silentLogger, testEnv, testPlatform, uniqueName } from '../../../../test/helpers.ts';
import { callAs, callJson, person, uploadForm } from '../../../../test/internal.ts';
import { eventually, queryOnce } from '../../../../test/processes.ts';
import { S3_KEY, startS3Server, type TestS3Server } from '../../../../test/s3-server.ts';
import { dataService } from '../definition.ts';
import { createDatasetStorage } from './configured-storage.ts';
import type { DatasetStorage } from './dataset-storage.ts';
import { storageConfigSchema } from './storage.config.ts';
import { sweepOnce } from './sweeper.ts';

const DATASETS = '/api/v1/data/datasets';
const PREFIX = 'datasets/';
const LOCK = "hashtext('datalab.data.sweeper')";

let s3: TestS3Server;
let scratch: string;
let databaseName: string;
let env: Env;
let platform: Platform;
let data: RunningService;
let database: Database;
const owner = person('editor');

/** The settings of a data-service on S3 whose local folder is `replica`'s own. */
function s3Env(replica: string, extra: Env = {}): Env {
  return {
    ...env,
    DATA_STORAGE: 's3',
    DATA_S3_ENDPOINT: s3.endpoint,
    DATA_S3_BUCKET: s3.bucket,
    DATA_S3_ACCESS_KEY_ID: S3_KEY.id,
    DATA_S3_SECRET_ACCESS_KEY: S3_KEY.secret,
    DATA_S3_FORCE_PATH_STYLE: 'true',
    DATA_STORAGE_DIR: path.join(scratch, replica),
    ...extra,
  };
}

/** Another replica's view of the same bucket, with a cache folder of its own. */
function storageOf(replica: string): DatasetStorage {
  return createDatasetStorage(loadConfig(storageConfigSchema, s3Env(replica)), scratch);
}

beforeAll(async () => {
  s3 = await startS3Server(`sweep-${randomBytes(4).toString('hex')}`);
  scratch = await mkdtemp(path.join(os.tmpdir(), 'datalab-sweeper-'));
  // A database of its own: the sweeper reads every dataset and dropped file of its catalog.
  databaseName = uniqueName('sweeper_test');
  const server = inject('databaseUrl');
  await queryOnce(server, `CREATE DATABASE ${databaseName}`);
  const on = (url: string) => Object.assign(new URL(url), { pathname: `/${databaseName}` }).toString();
  env = testEnv({
    DATABASE_URL: on(server),
    QUERY_DATABASE_URL: on(inject('queryDatabaseUrl')),
    REDIS_URL: undefined,
  });
  env = s3Env('replica-a');
  platform = await testPlatform(env);
  data = await startService(dataService, platform, { env, port: 0 });
  database = await connectDatabase({
    url: String(env.DATABASE_URL),
    poolSize: 2,
    connectTimeoutMs: 5000,
    applicationName: 'sweeper-test',
    logger: silentLogger,
  });
});
afterAll(async () => {
  await data?.close();
  await platform?.close();
  await database?.close();
  await queryOnce(inject('databaseUrl'), `DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
  await s3?.close();
  await rm(scratch, { recursive: true, force: true });
});

async function upload(service: RunningService, csv: string, url = DATASETS, name = uniqueName('s3_ds')) {
  const response = await callAs(platform, service, owner, url, {
    method: 'POST',
    body: uploadForm(csv, 'data.csv', { name }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { dataset: { id: string; name: string } }).dataset;
}

async function filesOf(id: string): Promise<string[]> {
  const [row] = await queryOnce(
    String(env.DATABASE_URL),
    `SELECT files FROM data.datasets WHERE id = '${id}'`,
  );
  return row!.files as string[];
}

const inBucket = async (keys: readonly string[]) => {
  const objects = new Set(await s3.keys());
  return keys.filter((key) => objects.has(`${PREFIX}${key}`));
};

describe('dataset files on S3: a data-service writes them, the sweeper deletes what nothing names', () => {
  it('an uploaded dataset has its version file in the bucket and in the writer cache, and is listed and read', async () => {
    const dataset = await upload(data, 'id,city\n1,Oslo\n2,Lima\n');
    const files = await filesOf(dataset.id);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^versions/${dataset.id}/[0-9a-f-]{36}/part-0\\.parquet$`));
    expect(await inBucket(files)).toEqual(files);
    expect(existsSync(path.join(scratch, 'replica-a', 'cache', ...files[0]!.split('/')))).toBe(true);

    const listed = await callJson<{ datasets: { name: string }[] }>(platform, data, owner, 'GET', DATASETS);
    expect(listed.body.datasets.map((entry) => entry.name)).toContain(dataset.name);
    const rows = await callJson<{ rows: unknown[][] }>(
      platform,
      data,
      owner,
      'GET',
      `${DATASETS}/${dataset.id}/rows`,
    );
    expect(rows.body.rows).toEqual([
      [1, 'Oslo'],
      [2, 'Lima'],
    ]);
    // Another replica reads the same file from the bucket.
    const opened = await storageOf('replica-b').open(files);
    expect(opened.paths[0]!.startsWith(path.join(scratch, 'replica-b', 'cache'))).toBe(true);
    opened.release();
  });

  it('deletes replaced and deleted files after the grace period, and orphans, and keeps every file a dataset names', async () => {
    const kept = await upload(data, 'n\n1\n');
    const appended = await upload(data, 'n\n1\n');
    const before = await filesOf(appended.id);
    await upload(data, 'n\n2\n', `${DATASETS}/${appended.id}/versions?mode=append`);
    const after = await filesOf(appended.id);
    const deleted = await upload(data, 'n\n3\n');
    const deletedFiles = await filesOf(deleted.id);
    expect(
      (await callAs(platform, data, owner, `${DATASETS}/${deleted.id}`, { method: 'DELETE' })).status,
    ).toBe(204);
    // A write that died after publishing: its file is named by nothing.
    const writer = storageOf('replica-c');
    const staged = await writer.stage(randomUUID());
    const orphanFile = path.join(staged.dir, 'part-0.parquet');
    await writeFile(orphanFile, 'not named');
    const orphans = await writer.publish(staged, [orphanFile]);

    const alive = [...(await filesOf(kept.id)), ...after];
    const dropped = [...before, ...deletedFiles];
    const everything = [...alive, ...dropped, ...orphans];
    expect(await inBucket(everything)).toEqual(everything);

    // Within the grace period nothing goes.
    expect(await sweepOnce(database.pool, writer, 3600)).toMatchObject({ ran: true, dropped: 0, orphans: 0 });
    expect(await inBucket(everything)).toEqual(everything);

    expect(await sweepOnce(database.pool, writer, 0)).toEqual({ ran: true, dropped: 2, orphans: 1 });
    expect(await inBucket(everything)).toEqual(alive);
    expect(await queryOnce(String(env.DATABASE_URL), 'SELECT key FROM data.dropped_files')).toEqual([]);
    const rows = await callJson<{ rows: unknown[][] }>(
      platform,
      data,
      owner,
      'GET',
      `${DATASETS}/${appended.id}/rows`,
    );
    expect(rows.body.rows).toEqual([[1], [2]]);
  });

  it('only one replica sweeps at a time', async () => {
    const holder = await database.pool.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(${LOCK})`);
      expect(await sweepOnce(database.pool, storageOf('replica-b'), 0)).toEqual({
        ran: false,
        dropped: 0,
        orphans: 0,
      });
    } finally {
      await holder.query(`SELECT pg_advisory_unlock(${LOCK})`);
      holder.release();
    }
  });

  it('a data-service sweeps by itself every DATA_SWEEP_INTERVAL_SECONDS', async () => {
    const sweeping = await startService(dataService, platform, {
      env: s3Env('replica-d', { DATA_SWEEP_INTERVAL_SECONDS: '1', DATA_SWEEP_GRACE_SECONDS: '1' }),
      port: 0,
    });
    try {
      const dataset = await upload(sweeping, 'n\n1\n');
      const files = await filesOf(dataset.id);
      expect(
        (await callAs(platform, sweeping, owner, `${DATASETS}/${dataset.id}`, { method: 'DELETE' })).status,
      ).toBe(204);
      await eventually('the deleted dataset file to be swept', async () =>
        (await inBucket(files)).length === 0 ? true : undefined,
      );
    } finally {
      await sweeping.close();
    }
  });
});
