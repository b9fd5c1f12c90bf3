import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatasetStorage } from './dataset-storage.ts';
import { createLocalStorage } from './local-storage.ts';

let folder: string;
let storage: DatasetStorage;

beforeEach(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'datalab-local-storage-'));
  storage = createLocalStorage(folder);
});
afterEach(() => rm(folder, { recursive: true, force: true }));

async function listed(): Promise<string[]> {
  const keys: string[] = [];
  for await (const file of storage.list()) keys.push(file.key);
  return keys.sort();
}

/** Stages a version of a fresh dataset with `contents` as its files, in order, and publishes it. */
async function published(contents: string[]): Promise<string[]> {
  const staged = await storage.stage(randomUUID());
  const files = contents.map((_, index) => path.join(staged.dir, `part-${index}.parquet`));
  for (const [index, file] of files.entries()) await writeFile(file, contents[index]!);
  return storage.publish(staged, files);
}

describe('the local dataset storage', () => {
  it('publishes staged files under their keys, in order, and opens them where they are', async () => {
    const keys = await published(['first', 'second']);
    expect(keys).toHaveLength(2);
    for (const key of keys) expect(key).toMatch(/^versions\/[0-9a-f-]{36}\/[0-9a-f-]{36}\/part-\d\.parquet$/);
    const opened = await storage.open(keys);
    expect(opened.paths.every((file) => file.startsWith(`${storage.root}${path.sep}`))).toBe(true);
    expect(await Promise.all(opened.paths.map((file) => readFile(file, 'utf8')))).toEqual([
      'first',
      'second',
    ]);
    opened.release();
    expect(await listed()).toEqual([...keys].sort());
  });

  it('lists when each file was written, and removes files with the folders they leave empty', async () => {
    const before = Date.now();
    const [kept] = await published(['kept']);
    const removed = await published(['a', 'b']);
    for await (const file of storage.list())
      expect(file.modifiedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
    await storage.remove(removed);
    expect(await listed()).toEqual([kept]);
    const dataset = removed[0]!.split('/')[1]!;
    expect(existsSync(path.join(storage.root, 'versions', dataset))).toBe(false);
  });

  it('discarding a staged version leaves nothing behind', async () => {
    const staged = await storage.stage(randomUUID());
    await writeFile(path.join(staged.dir, 'part-0.parquet'), 'half');
    await storage.discard(staged);
    expect(await listed()).toEqual([]);
    expect(await readdir(path.join(storage.root, 'versions'))).toEqual([]);
  });

  it('refuses keys that try to climb out of the storage, and files outside the staged folder', async () => {
    const outside = [
      '../../etc/passwd',
      `versions/${randomUUID()}/../../../secret.parquet`,
      `versions/${randomUUID()}/${randomUUID()}/../x.parquet`,
      '/etc/passwd',
      `versions/${randomUUID()}/${randomUUID()}/.hidden`,
    ];
    for (const key of outside) {
      await expect(storage.open([key])).rejects.toThrow(/Not a dataset storage key/);
      await expect(storage.remove([key])).rejects.toThrow(/Not a dataset storage key/);
    }
    const staged = await storage.stage(randomUUID());
    const stray = path.join(folder, 'stray.parquet');
    await writeFile(stray, 'x');
    await expect(storage.publish(staged, [stray])).rejects.toThrow(/not in the staged folder/);
  });
});
