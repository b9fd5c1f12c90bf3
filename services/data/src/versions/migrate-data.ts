import type { MigrateDataDeps } from '@datalab/platform';
import type { dataConfigSchema } from '../config.ts';
import { createDatasetsRepository } from '../datasets/datasets.repository.ts';
import { createDatasetStorage } from '../storage/configured-storage.ts';
import { openDatasetFiles } from './dataset-files.ts';
import { describeMissingFiles, findMissingFiles } from './missing-files.ts';
import { moveTablesToVersions } from './move-tables.ts';

type Deps = MigrateDataDeps<typeof dataConfigSchema>;

/** Datasets kept only in a PostgreSQL table move to Parquet versions. */
async function moveTables(deps: Deps): Promise<string[]> {
  const waiting = await deps.db.pool.query<{ count: string }>(
    "SELECT count(*) FROM data.datasets WHERE files = '[]'::jsonb",
  );
  if (Number(waiting.rows[0]!.count) === 0) return [];
  const files = await openDatasetFiles(deps.config, deps.common.dataDir);
  try {
    const moved = await moveTablesToVersions({
      pool: deps.db.pool,
      repository: createDatasetsRepository(deps.db.pool),
      files,
      logger: deps.logger,
    });
    return [`moved ${moved.length} dataset(s) from PostgreSQL tables into Parquet versions`];
  } finally {
    await files.close();
  }
}

/**
 * Reported, not refused: the other datasets stay readable, and the operator
 * restores the named files (docs/operations.md, "Restore").
 */
async function reportMissingFiles(deps: Deps): Promise<string[]> {
  const missing = await findMissingFiles(
    deps.db.pool,
    createDatasetStorage(deps.config, deps.common.dataDir),
  );
  for (const dataset of missing)
    deps.logger.error(dataset, 'a dataset names files the dataset storage does not hold');
  return describeMissingFiles(missing);
}

/**
 * The data-service's data migration, run at each start and by `datalab
 * migrate`: old tables move into versions, then every dataset's files are
 * looked for in the storage.
 */
export async function migrateData(deps: Deps): Promise<string[]> {
  return [...(await moveTables(deps)), ...(await reportMissingFiles(deps))];
}
