import type { MigrateDataDeps } from '@datalab/platform';
import type { dataConfigSchema } from '../config.ts';
import { createDatasetsRepository } from '../datasets/datasets.repository.ts';
import { openDatasetFiles } from './dataset-files.ts';
import { moveTablesToVersions } from './move-tables.ts';

/** The data-service's data migration: datasets kept only in a PostgreSQL table move to Parquet versions. */
export async function migrateData(deps: MigrateDataDeps<typeof dataConfigSchema>): Promise<string[]> {
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
