import { f } from '@datalab/platform';
import { engineConfigSchema } from './engine/engine.config.ts';
import { jobsConfigSchema } from './jobs/jobs.config.ts';
import { queryConfigSchema } from './query/query.config.ts';
import { storageConfigSchema } from './storage/storage.config.ts';

export const dataConfigSchema = {
  maxUploadBytes: f.integer(
    'DATA_MAX_UPLOAD_BYTES',
    'Largest file a dataset upload may send.',
    1024 * 1024 * 1024,
    1,
  ),
  uploadMinBytesPerSecond: f.integer(
    'DATA_UPLOAD_MIN_BYTES_PER_SECOND',
    'Slowest rate an upload may arrive at, measured over each DATA_UPLOAD_RATE_WINDOW_MS; slower ones get 408.',
    1024,
    1,
  ),
  uploadRateWindowMs: f.integer(
    'DATA_UPLOAD_RATE_WINDOW_MS',
    'Window over which the upload rate is measured; the first window is the grace period.',
    10_000,
    100,
  ),
  maxColumns: f.integer('DATA_MAX_COLUMNS', 'Most columns a dataset may have.', 2000, 1, 10000),
  maxCellBytes: f.integer(
    'DATA_MAX_CELL_BYTES',
    'Largest single value in an uploaded file.',
    1024 * 1024,
    16,
  ),
  maxErrorsReported: f.integer(
    'DATA_MAX_ERRORS_REPORTED',
    'How many bad rows a refused upload lists.',
    20,
    1,
    1000,
  ),
  sampleRows: f.integer(
    'DATA_SAMPLE_ROWS',
    'Rows read to infer column types before every row is checked.',
    1000,
    10,
  ),
  maxRowGroupBytes: f.integer(
    'DATA_MAX_ROW_GROUP_BYTES',
    'Most memory decoding one Parquet row group may take (its pages unpacked, and its values).',
    256 * 1024 * 1024,
    1024,
  ),
  maxZipEntries: f.integer('DATA_MAX_ZIP_ENTRIES', 'Most zip entries an Excel workbook may hold.', 1000, 1),
  maxUnzippedBytes: f.integer(
    'DATA_MAX_UNZIPPED_BYTES',
    'Largest an Excel workbook may be once unpacked, all its entries together.',
    1024 * 1024 * 1024,
    1024,
  ),
  maxZipRatio: f.integer(
    'DATA_MAX_ZIP_RATIO',
    'Most an entry of an Excel workbook over 1 MiB may grow when unpacked (unpacked / packed).',
    100,
    1,
  ),
  maxSharedStringsBytes: f.integer(
    'DATA_MAX_SHARED_STRINGS_BYTES',
    'Largest unpacked shared strings table of an Excel workbook (it is held in memory whole).',
    64 * 1024 * 1024,
    1024,
  ),
  ...queryConfigSchema,
  ...engineConfigSchema,
  ...storageConfigSchema,
  ...jobsConfigSchema,
};
