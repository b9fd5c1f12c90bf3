import { AppError } from '@datalab/platform';

// PostgreSQL's undefined_table.
const UNDEFINED_TABLE = '42P01';

/**
 * A dataset's table can vanish between reading its metadata and reading its
 * rows: a replace swaps in a new table and drops the old one, and a replica
 * may not have the new table yet. That is worth a retry, not a 500.
 */
export function datasetChanged(error: unknown): unknown {
  if ((error as { code?: unknown } | null)?.code !== UNDEFINED_TABLE) return error;
  return new AppError('unavailable', 'The dataset changed while it was being read; try again.', {
    headers: { 'retry-after': '1' },
    cause: error,
  });
}
