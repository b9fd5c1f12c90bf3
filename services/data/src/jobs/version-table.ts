import { finished } from 'node:stream/promises';
import type { PoolClient } from '@datalab/platform';
import { copyInto, createDatasetTable, indexDatasetTable } from '../datasets/dataset-tables.ts';
import type { Dataset } from '../datasets/datasets.types.ts';
import { copyWriter } from '../ingest/copy-writer.ts';
import { escapeCopy } from '../ingest/encode.ts';
import type { ResultValue } from '../query/result-values.ts';
import type { DatasetFiles } from '../versions/dataset-files.ts';

/**
 * TRANSITION (#18): browsing, profiles and queries still read each dataset's
 * PostgreSQL table until they move to DuckDB. So a job's new version, once
 * written as Parquet, is also copied into the dataset's table, in row order,
 * in the transaction that commits the dataset. Parquet is the source: the
 * table holds exactly what DuckDB reads. This file and its one call go when
 * no read path reads tables.
 */

/** Rows are read through the engine with no cap: the job's signal and timeout bound the copy. */
const NO_CAP = Number.MAX_SAFE_INTEGER;
const JOB_TIMEOUT_MS = 60 * 60_000;

/** One value as a COPY text field: JSON arrives as its text, timestamps in UTC, wide integers as exact text. */
function field(value: ResultValue): string {
  if (value === null) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return String(value);
  return escapeCopy(typeof value === 'string' ? value : JSON.stringify(value));
}

export async function copyVersionToTable(
  client: PoolClient,
  dataset: Dataset,
  version: { files: DatasetFiles; keys: readonly string[]; signal: AbortSignal },
): Promise<void> {
  await client.query("SET LOCAL TimeZone = 'UTC'");
  await createDatasetTable(client, dataset.tableName, dataset.columns);
  const opened = await version.files.storage.open(version.keys);
  try {
    const result = await version.files.engine.run({
      sql: 'SELECT * FROM written',
      datasets: { written: { files: opened.paths, columns: dataset.columns.map((column) => column.name) } },
      limits: { maxRows: NO_CAP, maxBytes: NO_CAP, timeoutMs: JOB_TIMEOUT_MS, signal: version.signal },
    });
    const copy = copyInto(client, dataset.tableName, dataset.columns);
    const writer = copyWriter(copy, () => result.close());
    try {
      for await (const batch of result.batches()) {
        for (const row of batch) {
          const waiting = writer.push(`${row.map(field).join('\t')}\n`);
          if (waiting) await waiting;
        }
      }
      await writer.end();
    } catch (error) {
      if (!copy.destroyed) {
        copy.destroy(error instanceof Error ? error : new Error(String(error)));
        await finished(copy).catch(() => undefined);
      }
      throw error;
    } finally {
      writer.detach();
      result.close();
    }
  } finally {
    opened.release();
  }
  await indexDatasetTable(client, dataset.tableName);
}
