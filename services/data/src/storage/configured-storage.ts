import path from 'node:path';
import type { DatasetStorage } from './dataset-storage.ts';
import { createLocalStorage } from './local-storage.ts';
import type { StorageConfig } from './storage.config.ts';

/** The local folder dataset files (or, with S3, their cached copies) live in. */
export function storageFolder(config: StorageConfig, dataDir: string): string {
  return path.resolve(dataDir, config.storageDir ?? 'datasets');
}

/** The dataset storage the configuration names. */
export function createDatasetStorage(config: StorageConfig, dataDir: string): DatasetStorage {
  return createLocalStorage(storageFolder(config, dataDir));
}
