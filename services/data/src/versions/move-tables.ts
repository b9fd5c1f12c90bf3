import type { Logger, Pool } from '@datalab/platform';
import { inTransaction } from '../datasets/dataset-tables.ts';
import type { DatasetsRepository } from '../datasets/datasets.repository.ts';
import type { Dataset } from '../datasets/datasets.types.ts';
import type { DatasetFiles } from './dataset-files.ts';
import { fingerprintDifference, fingerprintQuery } from './fingerprint.ts';
import { writeVersionFromTable } from './table-version.ts';

/**
 * Moves datasets that still have only a PostgreSQL table (made before
 * versions had Parquet files) into Parquet versions. Each dataset moves in a
 * transaction of its own, holding its row: the file is written, then DuckDB
 * and PostgreSQL fingerprint the same content (fingerprint.ts), and only if
 * they agree is the file named in the catalog. A mismatch stops the move
 * with the dataset unchanged.
 */

/** Every measure is cast to text in the SQL, so each value is a string or null. */
async function duckFingerprint(files: DatasetFiles, dataset: Dataset, keys: string[]) {
  const fingerprint = fingerprintQuery(dataset, 'duckdb');
  const opened = await files.open([{ ...dataset, files: keys }]);
  try {
    const result = await files.engine.run({
      sql: fingerprint.sql,
      datasets: opened.sources,
      limits: { maxRows: 1, timeoutMs: 3_600_000 },
    });
    try {
      for await (const batch of result.batches())
        return batch[0]!.map((value) => (typeof value === 'string' ? value : null));
      return [];
    } finally {
      result.close();
    }
  } finally {
    opened.release();
  }
}

export async function moveTablesToVersions(deps: {
  pool: Pool;
  repository: DatasetsRepository;
  files: DatasetFiles;
  logger: Logger;
}): Promise<string[]> {
  const { pool, repository, files, logger } = deps;
  const waiting = await pool.query<{ id: string }>(
    "SELECT id FROM data.datasets WHERE files = '[]'::jsonb ORDER BY created_at",
  );
  const moved: string[] = [];
  for (const { id } of waiting.rows) {
    const name = await inTransaction(pool, async (client) => {
      const dataset = await repository.findForUpdate(id, client);
      if (!dataset || dataset.files.length > 0) return undefined;
      const keys = await writeVersionFromTable(client, dataset, files, repository);
      const fingerprint = fingerprintQuery(dataset, 'postgres');
      const postgres = await client.query<(string | null)[]>({ text: fingerprint.sql, rowMode: 'array' });
      const duckdb = await duckFingerprint(files, dataset, keys);
      const difference = fingerprintDifference(fingerprint, postgres.rows[0]!, duckdb);
      if (difference !== undefined) {
        await files.storage.remove(keys);
        throw new Error(
          `Dataset ${dataset.name} (${dataset.id}): its Parquet version differs from its table (${difference}); nothing was changed`,
        );
      }
      return dataset.name;
    });
    if (name !== undefined) {
      logger.info({ dataset: id, name }, 'moved a dataset table into a Parquet version');
      moved.push(name);
    }
  }
  return moved;
}
