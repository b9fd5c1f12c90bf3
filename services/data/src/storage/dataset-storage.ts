/**
 * Where dataset versions' Parquet files live. A version's files are written
 * once into a staged folder, made durable by `publish`, and only then named
 * in the catalog; they are never changed afterwards. DuckDB reads local files
 * only, so every backend hands out local paths under `root`: the local
 * backend its own files, the S3 backend copies in a bounded cache.
 */

/** A new version's folder before it is published. */
export interface StagedVersion {
  /** An empty local folder under `root`; the writer puts the version's files here. */
  dir: string;
  /** The key prefix the files are published under (`versions/<dataset>/<uuid>/`). */
  prefix: string;
}

/** Local copies of published files, held until `release` (a cache does not evict them meanwhile). */
export interface OpenedFiles {
  paths: string[];
  release(): void;
}

export interface DatasetStorage {
  /** Every local path this storage hands out is under this folder: DuckDB may read nothing else. */
  readonly root: string;
  /** A fresh staged folder for a version of `datasetId`. */
  stage(datasetId: string): Promise<StagedVersion>;
  /** Makes the staged files durable and returns their keys, in the order given. */
  publish(staged: StagedVersion, files: readonly string[]): Promise<string[]>;
  /** Removes a staged folder that will not be published (a failed write). */
  discard(staged: StagedVersion): Promise<void>;
  /** Local paths of published keys, in order, held until released. */
  open(keys: readonly string[]): Promise<OpenedFiles>;
  /** Deletes published keys that no catalog entry names any more. */
  remove(keys: readonly string[]): Promise<void>;
  /** Every file the storage holds (published or left by a write that died), for the sweeper. */
  list(): AsyncIterable<StoredFile>;
}

export interface StoredFile {
  key: string;
  modifiedAt: Date;
}

/** Keys are made by the storage itself; this refuses anything else before it becomes a path. */
const KEY = /^versions\/[0-9a-f-]{36}\/[0-9a-f-]{36}\/[A-Za-z0-9_][A-Za-z0-9._-]*$/;

export function isKey(key: string): boolean {
  return KEY.test(key);
}

export function assertKey(key: string): void {
  if (!isKey(key)) throw new Error(`Not a dataset storage key: ${key}`);
}
