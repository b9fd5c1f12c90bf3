import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, ConfigError, createS3Client, loadConfig, type S3Client } from '@datalab/platform';
import { freePort } from '../../../../test/processes.ts';
import { S3_KEY, startS3Server, type TestS3Server } from '../../../../test/s3-server.ts';
import { createDatasetStorage } from './configured-storage.ts';
import type { DatasetStorage } from './dataset-storage.ts';
import { createS3Storage } from './s3-storage.ts';
import { storageConfigSchema } from './storage.config.ts';

const PREFIX = 'datasets/';
const MB = 1024 * 1024;
let s3: TestS3Server;
let scratch: string;

beforeAll(async () => {
  s3 = await startS3Server(`data-${randomBytes(4).toString('hex')}`);
  scratch = await mkdtemp(path.join(os.tmpdir(), 'datalab-s3-storage-'));
});
afterAll(async () => {
  await s3?.close();
  await rm(scratch, { recursive: true, force: true });
});

function client(endpoint = s3.endpoint, partBytes?: number, listPageKeys?: number): S3Client {
  return createS3Client({
    name: 'The dataset storage',
    endpoint,
    bucket: s3.bucket,
    region: 'us-east-1',
    accessKeyId: S3_KEY.id,
    secretAccessKey: S3_KEY.secret,
    forcePathStyle: true,
    partBytes,
    listPageKeys,
  });
}

/** A replica: a storage with a cache folder of its own, counting the downloads it makes. */
function replica(cacheMaxBytes = 100 * MB, partBytes?: number) {
  const real = client(s3.endpoint, partBytes);
  const downloads: string[] = [];
  const counted: S3Client = {
    ...real,
    download: (key, file) => {
      downloads.push(key);
      return real.download(key, file);
    },
  };
  const root = path.join(scratch, randomUUID());
  return {
    root,
    downloads,
    storage: createS3Storage({ root, client: counted, prefix: PREFIX, cacheMaxBytes }),
  };
}

/** Publishes a version of a fresh dataset whose files hold `contents`, in order. */
async function publish(storage: DatasetStorage, contents: Buffer[]): Promise<string[]> {
  const staged = await storage.stage(randomUUID());
  const files = contents.map((_, index) => path.join(staged.dir, `part-${index}.parquet`));
  for (const [index, file] of files.entries()) await writeFile(file, contents[index]!);
  return storage.publish(staged, files);
}

async function listed(storage: DatasetStorage) {
  const files = new Map<string, Date>();
  for await (const file of storage.list()) files.set(file.key, file.modifiedAt);
  return files;
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('dataset files in an S3-compatible bucket (s3rver)', () => {
  it('publishes into the bucket, reads from the writer cache at once, lists and removes', async () => {
    const writer = replica();
    const contents = [randomBytes(1000), randomBytes(2000)];
    const before = Date.now();
    const keys = await publish(writer.storage, contents);
    expect((await s3.keys()).filter((key) => keys.some((k) => key === `${PREFIX}${k}`))).toHaveLength(2);
    expect(existsSync(path.join(writer.root, 'staging'))).toBe(true);
    expect(existsSync(path.join(writer.root, 'staging', keys[0]!.split('/')[2]!))).toBe(false);

    const opened = await writer.storage.open(keys);
    expect(writer.downloads).toEqual([]);
    expect(opened.paths.every((file) => file.startsWith(path.join(writer.root, 'cache') + path.sep))).toBe(
      true,
    );
    expect(await Promise.all(opened.paths.map((file) => readFile(file)))).toEqual(contents);
    opened.release();

    const files = await listed(writer.storage);
    for (const key of keys) expect(files.get(key)!.getTime()).toBeGreaterThan(before - 5000);

    await writer.storage.remove(keys);
    const left = await listed(writer.storage);
    expect(keys.filter((key) => left.has(key))).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(opened.paths.some((file) => existsSync(file))).toBe(false);
  });

  it('another replica downloads a published file once and then reads its own copy', async () => {
    const writer = replica();
    const bytes = randomBytes(5000);
    const [key] = await publish(writer.storage, [bytes]);
    const reader = replica();
    const first = await reader.storage.open([key!]);
    expect(first.paths[0]!.startsWith(reader.root + path.sep)).toBe(true);
    expect(await readFile(first.paths[0]!)).toEqual(bytes);
    first.release();
    const again = await reader.storage.open([key!]);
    again.release();
    expect(reader.downloads).toEqual([`${PREFIX}${key}`]);
  });

  it('two opens of the same file at once download it once', async () => {
    const writer = replica();
    const [key] = await publish(writer.storage, [randomBytes(MB)]);
    const reader = replica();
    const opened = await Promise.all([reader.storage.open([key!]), reader.storage.open([key!])]);
    expect(opened[0].paths).toEqual(opened[1].paths);
    expect(reader.downloads).toHaveLength(1);
    opened.forEach((files) => files.release());
  });

  it('keeps its cache under budget and never evicts a file being read', async () => {
    const writer = replica();
    const keys: string[] = [];
    for (let i = 0; i < 5; i++) keys.push(...(await publish(writer.storage, [randomBytes(MB)])));
    const reader = replica(2.5 * MB);
    const held = await reader.storage.open([keys[0]!]);
    for (const key of keys.slice(1)) {
      const opened = await reader.storage.open([key]);
      opened.release();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const cached = keys.filter((key) => existsSync(path.join(reader.root, 'cache', ...key.split('/'))));
    expect(cached).toEqual([keys[0], keys[4]]);
    // The held file is read whole, though it is the least recently opened.
    expect((await readFile(held.paths[0]!)).length).toBe(MB);
    held.release();
    expect(reader.downloads).toHaveLength(5);
  });

  it('uploads a file larger than a part in parts, and a replica reads it back whole', async () => {
    const writer = replica(100 * MB, 5 * MB);
    const bytes = randomBytes(11 * MB + 123);
    const [key] = await publish(writer.storage, [bytes]);
    const stored = await client().head(`${PREFIX}${key}`);
    expect(stored?.size).toBe(bytes.length);
    const reader = replica();
    const opened = await reader.storage.open([key!]);
    expect(sha(await readFile(opened.paths[0]!))).toBe(sha(bytes));
    opened.release();
  });

  it('lists page after page (ListObjectsV2 continuation)', async () => {
    const writer = replica();
    const keys = await publish(
      writer.storage,
      Array.from({ length: 7 }, () => randomBytes(8)),
    );
    const paged = createS3Storage({
      root: path.join(scratch, randomUUID()),
      client: client(s3.endpoint, undefined, 3),
      prefix: PREFIX,
      cacheMaxBytes: MB,
    });
    const files = await listed(paged);
    expect(keys.filter((key) => files.has(key))).toHaveLength(7);
    expect(files.size).toBe((await s3.keys()).length);
  });

  it('a storage that cannot reach the bucket fails as unavailable, and discarding leaves no staging', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const root = path.join(scratch, randomUUID());
    const storage = createS3Storage({ root, client: client(closed), prefix: PREFIX, cacheMaxBytes: MB });
    const key = `versions/${randomUUID()}/${randomUUID()}/part-0.parquet`;
    const refused = await storage.open([key]).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ kind: 'unavailable', message: 'The dataset storage cannot be reached' });
    const staged = await storage.stage(randomUUID());
    const file = path.join(staged.dir, 'part-0.parquet');
    await writeFile(file, 'x');
    await expect(storage.publish(staged, [file])).rejects.toThrow(AppError);
    await storage.discard(staged);
    expect(existsSync(staged.dir)).toBe(false);
  });

  it('an S3 storage without its bucket or keys fails at start-up naming the variable', () => {
    const start = (env: Record<string, string>) => () =>
      createDatasetStorage(loadConfig(storageConfigSchema, { DATA_STORAGE: 's3', ...env }), scratch);
    expect(start({ DATA_S3_ACCESS_KEY_ID: 'a', DATA_S3_SECRET_ACCESS_KEY: 'b' })).toThrow(
      new ConfigError('DATA_S3_BUCKET', 'must be set when DATA_STORAGE=s3'),
    );
    expect(start({ DATA_S3_BUCKET: 'd', DATA_S3_SECRET_ACCESS_KEY: 'b' })).toThrow(/DATA_S3_ACCESS_KEY_ID/);
    expect(
      start({
        DATA_S3_BUCKET: 'd',
        DATA_S3_ACCESS_KEY_ID: 'a',
        DATA_S3_SECRET_ACCESS_KEY: 'b',
        DATA_S3_PREFIX: '../up/',
      }),
    ).toThrow(/DATA_S3_PREFIX/);
  });
});
