import path from 'node:path';
import { ConfigError, createS3Client } from '@datalab/platform';
import type { DatasetStorage } from './dataset-storage.ts';
import { createLocalStorage } from './local-storage.ts';
import { createS3Storage } from './s3-storage.ts';
import type { StorageConfig } from './storage.config.ts';

/** Path segments ending in `/`, so keys stay plain and cannot climb out of the prefix. */
const PREFIX = /^([A-Za-z0-9_-]+\/)+$/;

function required(value: string | undefined, variable: string): string {
  if (!value) throw new ConfigError(variable, 'must be set when DATA_STORAGE=s3');
  return value;
}

/** The local folder dataset files (or, with S3, their cached copies) live in. */
export function storageFolder(config: StorageConfig, dataDir: string): string {
  return path.resolve(dataDir, config.storageDir ?? 'datasets');
}

/** The dataset storage the configuration names. */
export function createDatasetStorage(config: StorageConfig, dataDir: string): DatasetStorage {
  const folder = storageFolder(config, dataDir);
  if (config.storage === 'dir') return createLocalStorage(folder);
  if (!PREFIX.test(config.s3Prefix))
    throw new ConfigError(
      'DATA_S3_PREFIX',
      'must be path segments of letters, digits, _ and -, each ending in /',
    );
  const client = createS3Client({
    name: 'The dataset storage',
    endpoint: config.s3Endpoint,
    bucket: required(config.s3Bucket, 'DATA_S3_BUCKET'),
    region: config.s3Region,
    accessKeyId: required(config.s3AccessKeyId, 'DATA_S3_ACCESS_KEY_ID'),
    secretAccessKey: required(config.s3SecretAccessKey, 'DATA_S3_SECRET_ACCESS_KEY'),
    forcePathStyle: config.s3ForcePathStyle,
  });
  return createS3Storage({
    root: folder,
    client,
    prefix: config.s3Prefix,
    cacheMaxBytes: config.cacheMaxMb * 1024 * 1024,
  });
}
