import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileCache } from './file-cache.ts';
import { eventually } from '../../../../test/processes.ts';

const KB = 1024;
let dir: string;
const key = (name: string) => `versions/${name}/part-0.parquet`;
const fileOf = (name: string) => path.join(dir, ...key(name).split('/'));

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'datalab-file-cache-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Deleting an evicted copy happens in the background: waits until `file` is gone. */
const gone = (file: string) =>
  eventually(`${file} to be deleted`, async () => (existsSync(file) ? undefined : true), 5000);

/** A download that writes `size` bytes, as the storage's would, and counts itself. */
function downloader(size: number) {
  const calls: string[] = [];
  const download = async (file: string) => {
    calls.push(file);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeFile(file, Buffer.alloc(size));
    return size;
  };
  return { calls, download };
}

describe('the bounded file cache', () => {
  it('keeps under its budget by deleting the least recently used copies', async () => {
    const cache = createFileCache(dir, 3 * KB);
    const { download } = downloader(KB);
    for (const name of ['a', 'b', 'c']) {
      await cache.acquire(key(name), download);
      cache.release(key(name));
    }
    // `a` used again: `b` is now the least recently used.
    await cache.acquire(key('a'), download);
    cache.release(key('a'));
    await cache.acquire(key('d'), download);
    cache.release(key('d'));
    expect(cache.bytes()).toBe(3 * KB);
    // The evicted copy is deleted in the background.
    await gone(fileOf('b'));
    expect(['a', 'b', 'c', 'd'].filter((name) => existsSync(fileOf(name)))).toEqual(['a', 'c', 'd']);
  });

  it('never deletes a copy that is held, and comes back under budget once it is released', async () => {
    const cache = createFileCache(dir, 2 * KB);
    const { download } = downloader(KB);
    const held = await cache.acquire(key('held'), download);
    for (const name of ['b', 'c', 'd']) {
      await cache.acquire(key(name), download);
      cache.release(key(name));
    }
    expect(existsSync(held)).toBe(true);
    expect(cache.bytes()).toBe(2 * KB);
    // Held copies alone over budget: nothing can be deleted until they are released.
    const more = await Promise.all(['e', 'f'].map((name) => cache.acquire(key(name), download)));
    expect(cache.bytes()).toBe(3 * KB);
    expect([held, ...more].every((file) => existsSync(file))).toBe(true);
    cache.release(key('held'));
    expect(cache.bytes()).toBe(2 * KB);
    await gone(held);
    expect(existsSync(held)).toBe(false);
  });

  it('downloads a key once however many ask for it at the same time', async () => {
    const cache = createFileCache(dir, 10 * KB);
    const { calls, download } = downloader(KB);
    const paths = await Promise.all([1, 2, 3].map(() => cache.acquire(key('same'), download)));
    expect(calls).toHaveLength(1);
    expect(new Set(paths).size).toBe(1);
    expect(cache.bytes()).toBe(KB);
  });

  it('tries a failed download again on the next acquire', async () => {
    const cache = createFileCache(dir, 10 * KB);
    await expect(cache.acquire(key('x'), () => Promise.reject(new Error('no network')))).rejects.toThrow(
      'no network',
    );
    const { calls, download } = downloader(KB);
    await cache.acquire(key('x'), download);
    expect(calls).toHaveLength(1);
  });

  it('deletes a forgotten copy at once, or when its last holder releases it', async () => {
    const cache = createFileCache(dir, 10 * KB);
    const { download } = downloader(KB);
    const free = await cache.acquire(key('free'), download);
    cache.release(key('free'));
    const held = await cache.acquire(key('held'), download);
    cache.forget(key('free'));
    cache.forget(key('held'));
    await gone(free);
    expect(existsSync(free)).toBe(false);
    expect(existsSync(held)).toBe(true);
    cache.release(key('held'));
    await gone(held);
    expect(existsSync(held)).toBe(false);
    expect(cache.bytes()).toBe(0);
  });

  it('counts the copies a previous run left, oldest out first, and deletes its half-done downloads', async () => {
    const old = Date.now() / 1000 - 3600;
    for (const [index, name] of ['oldest', 'older', 'recent'].entries()) {
      await mkdir(path.dirname(fileOf(name)), { recursive: true });
      await writeFile(fileOf(name), Buffer.alloc(KB));
      await utimes(fileOf(name), old + index * 60, old + index * 60);
    }
    const partial = `${fileOf('recent')}.1a2b3c4d.download`;
    await writeFile(partial, Buffer.alloc(KB));
    const cache = createFileCache(dir, 2 * KB);
    const { calls, download } = downloader(KB);
    await cache.acquire(key('recent'), download);
    expect(calls).toEqual([]);
    expect(cache.bytes()).toBe(2 * KB);
    await gone(fileOf('oldest'));
    expect(existsSync(fileOf('oldest'))).toBe(false);
    expect(existsSync(fileOf('older'))).toBe(true);
    expect(existsSync(partial)).toBe(false);
  });

  it('adopts a file moved in from elsewhere, counted like a download', async () => {
    const cache = createFileCache(path.join(dir, 'cache'), 10 * KB);
    const staged = path.join(dir, 'staged.parquet');
    await writeFile(staged, Buffer.alloc(3 * KB));
    await cache.adopt(key('new'), staged);
    expect(existsSync(staged)).toBe(false);
    expect(cache.bytes()).toBe(3 * KB);
    const { calls, download } = downloader(KB);
    await cache.acquire(key('new'), download);
    expect(calls).toEqual([]);
    expect(await readdir(path.join(dir, 'cache', 'versions', 'new'))).toEqual(['part-0.parquet']);
  });
});
