import { f, type ConfigOf } from '@datalab/platform';

/** Where dataset versions' files live; the data-service and the workers running data jobs must name the same storage. */
export const storageConfigSchema = {
  storage: f.oneOf(
    'DATA_STORAGE',
    'Where dataset files live: `dir` (DATA_STORAGE_DIR) or `s3` (an S3-compatible bucket, DATA_S3_*).',
    'dir',
    ['dir', 's3'],
  ),
  storageDir: f.optionalString(
    'DATA_STORAGE_DIR',
    'Folder of dataset files with DATA_STORAGE=dir, and of the local cache with s3 (one folder per process); a relative path is taken from DATALAB_DATA_DIR. Unset: <DATALAB_DATA_DIR>/datasets.',
  ),
  s3Endpoint: f.optionalUrl(
    'DATA_S3_ENDPOINT',
    'S3-compatible endpoint (MinIO, Ceph, R2, …). Unset: AWS S3 in DATA_S3_REGION.',
    ['http', 'https'],
  ),
  s3Bucket: f.optionalString('DATA_S3_BUCKET', 'Bucket of dataset files (required with DATA_STORAGE=s3).'),
  s3Prefix: f.string('DATA_S3_PREFIX', 'Key prefix of dataset files inside the bucket.', 'datasets/'),
  s3Region: f.string('DATA_S3_REGION', 'Region the requests are signed for.', 'us-east-1'),
  s3AccessKeyId: f.optionalString(
    'DATA_S3_ACCESS_KEY_ID',
    'Access key id for the bucket (required with DATA_STORAGE=s3).',
  ),
  s3SecretAccessKey: f.optionalString(
    'DATA_S3_SECRET_ACCESS_KEY',
    'Secret access key for the bucket (required with DATA_STORAGE=s3).',
  ),
  s3ForcePathStyle: f.boolean(
    'DATA_S3_FORCE_PATH_STYLE',
    'Address the bucket as `<endpoint>/<bucket>/…` (MinIO and most self-hosted servers) instead of `<bucket>.<endpoint>/…`.',
    false,
  ),
  cacheMaxMb: f.integer(
    'DATA_CACHE_MAX_MB',
    'With DATA_STORAGE=s3: most MiB of dataset files kept in the local cache; least recently used files go first, files being read never.',
    10_240,
    1,
  ),
  sweepGraceSeconds: f.integer(
    'DATA_SWEEP_GRACE_SECONDS',
    'How long a replaced or deleted dataset file is kept, so queries started on it can finish; also how old an unnamed file must be before it is swept.',
    600,
    0,
  ),
  sweepIntervalSeconds: f.integer(
    'DATA_SWEEP_INTERVAL_SECONDS',
    'How often the data-service sweeps dataset files no version names.',
    300,
    1,
  ),
};

export type StorageConfig = ConfigOf<typeof storageConfigSchema>;
