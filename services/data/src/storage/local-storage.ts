import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { assertKey, type DatasetStorage, type StagedVersion } from './dataset-storage.ts';

/**
 * Dataset files in a local folder (the embedded default, or a volume in a
 * container). A version is staged straight in its final folder, so publishing
 * it is flushing it to disk: the catalog names it only after that.
 */

async function fsync(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes `dir` and then each parent up to `stop` that it left empty. */
async function removeEmptyParents(dir: string, stop: string): Promise<void> {
  for (let current = dir; current.startsWith(`${stop}${path.sep}`); current = path.dirname(current)) {
    const removed = await rmdir(current).then(
      () => true,
      () => false,
    );
    if (!removed) return;
  }
}

export function createLocalStorage(folder: string): DatasetStorage {
  const root = path.resolve(folder);
  const versions = path.join(root, 'versions');

  const keyOf = (file: string): string => path.relative(root, file).split(path.sep).join('/');
  const pathOf = (key: string): string => {
    assertKey(key);
    return path.join(root, ...key.split('/'));
  };

  return {
    root,

    async stage(datasetId) {
      const prefix = `versions/${datasetId}/${randomUUID()}/`;
      const dir = path.join(root, ...prefix.split('/'));
      await mkdir(dir, { recursive: true });
      return { dir, prefix };
    },

    async publish(staged: StagedVersion, files) {
      const keys = files.map((file) => {
        const key = keyOf(file);
        if (!key.startsWith(staged.prefix))
          throw new Error(`${file} is not in the staged folder ${staged.dir}`);
        assertKey(key);
        return key;
      });
      for (const file of files) await fsync(file);
      await fsync(staged.dir);
      return keys;
    },

    async discard(staged) {
      await rm(staged.dir, { recursive: true, force: true });
      await removeEmptyParents(path.dirname(staged.dir), versions);
    },

    async open(keys) {
      return { paths: keys.map(pathOf), release: () => undefined };
    },

    async remove(keys) {
      for (const key of keys) {
        const file = pathOf(key);
        await rm(file, { force: true });
        await removeEmptyParents(path.dirname(file), versions);
      }
    },

    async *list() {
      const datasets = await readdir(versions).catch(() => [] as string[]);
      for (const dataset of datasets) {
        const folders = await readdir(path.join(versions, dataset)).catch(() => [] as string[]);
        for (const folder of folders) {
          const files = await readdir(path.join(versions, dataset, folder)).catch(() => [] as string[]);
          for (const file of files) {
            const key = `versions/${dataset}/${folder}/${file}`;
            const info = await stat(pathOf(key)).catch(() => undefined);
            if (info?.isFile()) yield { key, modifiedAt: info.mtime };
          }
        }
      }
    },
  };
}
