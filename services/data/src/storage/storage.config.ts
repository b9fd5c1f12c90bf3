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
    'Folder of dataset files with DATA_STORAGE=dir, and of the local cache with s3; a relative path is taken from DATALAB_DATA_DIR. Unset: <DATALAB_DATA_DIR>/datasets.',
  ),
};

export type StorageConfig = ConfigOf<typeof storageConfigSchema>;
