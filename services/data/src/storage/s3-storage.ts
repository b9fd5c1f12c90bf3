import { randomUUID } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@datalab/platform';
import { assertKey, isKey, type DatasetStorage, type OpenedFiles } from './dataset-storage.ts';
import { createFileCache, type FileCache } from './file-cache.ts';

export interface S3StorageOptions {
  /** This process's local folder: `staging/` for versions being written, `cache/` for copies. */
  root: string;
  client: S3Client;
  /** Empty or `segment/…/`; objects are `<prefix><key>`. */
  prefix: string;
  cacheMaxBytes: number;
}

interface LocalArea {
  cache: FileCache;
  /** Done once the staging a previous run left is gone. */
  ready: Promise<void>;
}

/**
 * Storages of one process on the same folder share its cache, so the
 * data-service and the data jobs it runs in embedded mode count the same
 * bytes and never delete a copy the other holds.
 */
const areas = new Map<string, LocalArea>();

function localArea(root: string, cacheMaxBytes: number): LocalArea {
  let area = areas.get(root);
  if (!area) {
    // The folder belongs to this process: a staged version there is one a previous run never published.
    const ready = rm(path.join(root, 'staging'), { recursive: true, force: true });
    area = { cache: createFileCache(path.join(root, 'cache'), cacheMaxBytes), ready };
    areas.set(root, area);
  }
  return area;
}

/**
 * Dataset files as objects in an S3-compatible bucket. A version is written
 * into a local staging folder, uploaded and checked by `publish`, then moved
 * into this replica's cache, so the writer reads it at once; other replicas
 * download a file the first time a query needs it.
 */
export function createS3Storage(options: S3StorageOptions): DatasetStorage {
  const root = path.resolve(options.root);
  const { cache, ready } = localArea(root, options.cacheMaxBytes);
  const objectKey = (key: string): string => {
    assertKey(key);
    return `${options.prefix}${key}`;
  };

  async function upload(file: string, key: string): Promise<void> {
    await options.client.putFile(objectKey(key), file);
    const [local, stored] = await Promise.all([stat(file), options.client.head(objectKey(key))]);
    if (stored?.size !== local.size)
      throw new Error(
        `${key} is not whole in the bucket after its upload (${stored?.size ?? 'no'} bytes of ${local.size})`,
      );
  }

  return {
    root,

    async stage(datasetId) {
      await ready;
      const id = randomUUID();
      const prefix = `versions/${datasetId}/${id}/`;
      const dir = path.join(root, 'staging', id);
      await mkdir(dir, { recursive: true });
      return { dir, prefix };
    },

    async publish(staged, files) {
      const keys = files.map((file) => {
        if (path.dirname(path.resolve(file)) !== staged.dir)
          throw new Error(`${file} is not in the staged folder ${staged.dir}`);
        const key = `${staged.prefix}${path.basename(file)}`;
        assertKey(key);
        return key;
      });
      for (const [index, file] of files.entries()) await upload(file, keys[index]!);
      for (const [index, file] of files.entries()) await cache.adopt(keys[index]!, file);
      await rm(staged.dir, { recursive: true, force: true });
      return keys;
    },

    async discard(staged) {
      // Files already uploaded are named by no version: the sweeper deletes them.
      await rm(staged.dir, { recursive: true, force: true });
    },

    async open(keys) {
      await ready;
      const settled = await Promise.allSettled(
        keys.map((key) => cache.acquire(key, (file) => options.client.download(objectKey(key), file))),
      );
      const held = keys.filter((_, index) => settled[index]!.status === 'fulfilled');
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        held.forEach((key) => cache.release(key));
      };
      const failed = settled.find((result) => result.status === 'rejected');
      if (failed) {
        release();
        throw failed.reason;
      }
      const paths = settled.map((result) => (result as PromiseFulfilledResult<string>).value);
      return { paths, release } satisfies OpenedFiles;
    },

    async remove(keys) {
      for (const key of keys) {
        await options.client.delete(objectKey(key));
        cache.forget(key);
      }
    },

    async *list() {
      for await (const object of options.client.list(`${options.prefix}versions/`)) {
        const key = object.key.slice(options.prefix.length);
        // Only files this storage made: anything else under the prefix is not the sweeper's to delete.
        if (isKey(key)) yield { key, modifiedAt: object.modifiedAt };
      }
    },
  };
}
