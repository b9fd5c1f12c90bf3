import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Local copies of immutable files, bounded by bytes: when the copies add up
 * to more than `maxBytes`, the least recently used ones that nobody holds are
 * deleted. A held (pinned) copy is never deleted, so the cache can run over
 * its budget while readers hold more than it; it comes back under as they
 * release. Copies are files `<dir>/<key>`, so a restart finds the ones it
 * kept and counts them.
 */
export interface FileCache {
  /**
   * The local path of `key`, pinned until `release(key)`. A missing copy is
   * made by `download(file)`, once however many callers ask at the same time;
   * `download` writes `file` whole (a temporary name, then a rename) and returns its size.
   */
  acquire(key: string, download: (file: string) => Promise<number>): Promise<string>;
  release(key: string): void;
  /** Moves a local file into the cache as the copy of `key` (a file this process has just published). */
  adopt(key: string, file: string): Promise<void>;
  /** Deletes the copy of `key` now, or when its last holder releases it. */
  forget(key: string): void;
  /** Bytes of the copies the cache counts. */
  bytes(): number;
}

interface Entry {
  size: number;
  pins: number;
  loaded: boolean;
  /** Forgotten while held: deleted on the last release. */
  forgotten: boolean;
  ready: Promise<void>;
}

/** Temporary names of downloads under way (see the S3 client's `download`); a restart deletes what one left. */
const PARTIAL = /\.download$/;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

export function createFileCache(dir: string, maxBytes: number): FileCache {
  const root = path.resolve(dir);
  /** In order of use, least recent first: a use deletes and re-inserts the key. */
  const entries = new Map<string, Entry>();
  /** Deletions under way, so a new copy of the same key waits for the old one to be gone. */
  const removals = new Map<string, Promise<void>>();
  let total = 0;

  const fileOf = (key: string): string => path.join(root, ...key.split('/'));

  const touch = (key: string, entry: Entry): void => {
    entries.delete(key);
    entries.set(key, entry);
  };

  const drop = (key: string, entry: Entry): void => {
    entries.delete(key);
    if (entry.loaded) total -= entry.size;
    const removal = rm(fileOf(key), { force: true })
      .catch(() => undefined)
      .finally(() => {
        if (removals.get(key) === removal) removals.delete(key);
      });
    removals.set(key, removal);
  };

  const evict = (): void => {
    for (const [key, entry] of entries) {
      if (total <= maxBytes) return;
      if (entry.pins === 0 && entry.loaded) drop(key, entry);
    }
  };

  const loaded = (key: string, size: number, pins: number): Entry => {
    const entry: Entry = { size, pins, loaded: true, forgotten: false, ready: Promise.resolve() };
    total += size;
    touch(key, entry);
    return entry;
  };

  /** Counts the copies a previous run left, oldest first, and deletes its half-done downloads. */
  async function index(): Promise<void> {
    const found: { key: string; size: number; modified: number }[] = [];
    for (const file of await filesUnder(root)) {
      if (PARTIAL.test(file)) {
        await rm(file, { force: true });
        continue;
      }
      const info = await stat(file).catch(() => undefined);
      const key = path.relative(root, file).split(path.sep).join('/');
      if (info) found.push({ key, size: info.size, modified: info.mtimeMs });
    }
    found.sort((a, b) => a.modified - b.modified);
    for (const file of found) if (!entries.has(file.key)) loaded(file.key, file.size, 0);
    evict();
  }
  const indexed = index();

  async function place(key: string, make: (file: string) => Promise<number>): Promise<number> {
    await removals.get(key);
    const file = fileOf(key);
    await mkdir(path.dirname(file), { recursive: true });
    return make(file);
  }

  return {
    async acquire(key, download) {
      await indexed;
      let entry = entries.get(key);
      if (!entry) {
        const fresh: Entry = { size: 0, pins: 0, loaded: false, forgotten: false, ready: Promise.resolve() };
        fresh.ready = place(key, download).then(
          (size) => {
            fresh.size = size;
            fresh.loaded = true;
            total += size;
          },
          (error: unknown) => {
            if (entries.get(key) === fresh) entries.delete(key);
            throw error;
          },
        );
        entries.set(key, fresh);
        entry = fresh;
      }
      entry.pins++;
      touch(key, entry);
      try {
        await entry.ready;
      } catch (error) {
        entry.pins--;
        throw error;
      }
      evict();
      return fileOf(key);
    },

    release(key) {
      const entry = entries.get(key);
      if (!entry) return;
      entry.pins--;
      if (entry.pins === 0 && entry.forgotten) drop(key, entry);
      else evict();
    },

    async adopt(key, file) {
      await indexed;
      // Published keys are new, so the cache never holds one already.
      if (entries.has(key)) throw new Error(`${key} is already in the cache`);
      const size = await place(key, async (target) => {
        await rename(file, target);
        return (await stat(target)).size;
      });
      loaded(key, size, 0);
      evict();
    },

    forget(key) {
      const entry = entries.get(key);
      if (!entry) return;
      if (entry.pins > 0 || !entry.loaded) entry.forgotten = true;
      else drop(key, entry);
    },

    bytes: () => total,
  };
}
