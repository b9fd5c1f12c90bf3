import { access } from 'node:fs/promises';
import { AppError } from '@datalab/platform';
import type { OpenedSources } from '../versions/dataset-files.ts';

const exists = (file: string): Promise<boolean> =>
  access(file).then(
    () => true,
    () => false,
  );

/**
 * A dataset's version can be replaced between reading its catalog entry and
 * reading its files, and after a grace period the old files are swept away.
 * When a read failed and one of the files it was given is gone, that is
 * worth a retry (which reads the catalog again), not a 500. DuckDB's own
 * words for a missing file vary (with external access off it reports the
 * path as not allowed), so the files themselves are looked at.
 */
export async function datasetChanged(error: unknown, opened: OpenedSources | undefined): Promise<unknown> {
  const paths = Object.values(opened?.sources ?? {}).flatMap((source) => source.files);
  const missing =
    (error as { code?: unknown } | null)?.code === 'ENOENT' ||
    (await Promise.all(paths.map(exists))).includes(false);
  if (!missing) return error;
  return new AppError('unavailable', 'The dataset changed while it was being read; try again.', {
    headers: { 'retry-after': '1' },
    cause: error,
  });
}
