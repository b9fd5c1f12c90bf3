import type { Pool } from '@datalab/platform';
import type { DatasetStorage } from '../storage/dataset-storage.ts';

/** A dataset whose current version names files the storage does not hold: it cannot be read. */
export interface DatasetMissingFiles {
  id: string;
  name: string;
  missing: string[];
}

/**
 * Datasets whose current version names a file the storage does not hold. The
 * catalog and the files are backed up apart (docs/operations.md), so after a
 * restore this is what says whether they meet at one point. It lists the
 * storage once (what one sweeper pass costs) rather than asking for each key.
 */
export async function findMissingFiles(pool: Pool, storage: DatasetStorage): Promise<DatasetMissingFiles[]> {
  const held = new Set<string>();
  for await (const file of storage.list()) held.add(file.key);
  const named = await pool.query<{ id: string; name: string; files: string[] }>(
    `SELECT id, name, files FROM data.datasets WHERE files <> '[]'::jsonb ORDER BY name`,
  );
  return named.rows.flatMap(({ id, name, files }) => {
    const missing = files.filter((key) => !held.has(key));
    return missing.length === 0 ? [] : [{ id, name, missing }];
  });
}

/** One line per dataset, naming its missing keys, for the person running `datalab migrate`. */
export function describeMissingFiles(datasets: readonly DatasetMissingFiles[]): string[] {
  return datasets.map(
    ({ id, name, missing }) =>
      `dataset ${name} (${id}) cannot be read, files missing from the storage: ${missing.join(', ')}`,
  );
}
