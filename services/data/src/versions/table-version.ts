import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { to as copyTo } from 'pg-copy-streams';
import type { PoolClient } from '@datalab/platform';
import type { DatasetsRepository } from '../datasets/datasets.repository.ts';
import {
  qualifiedTable,
  quoteIdent,
  ROW_ID_COLUMN,
  type Dataset,
  type DatasetColumn,
} from '../datasets/datasets.types.ts';
import type { DatasetFiles } from './dataset-files.ts';
import { DUCK_TYPE } from './duck-types.ts';

/**
 * A column as PostgreSQL should write it for DuckDB to read back exactly.
 * PostgreSQL writes a year before 1 as `0044-01-01 BC`, which DuckDB reads
 * as the year 44; DuckDB's own form is `0044-01-01 (BC)`, before the time.
 */
function exported(column: DatasetColumn): string {
  const name = quoteIdent(column.name);
  if (column.type !== 'date' && column.type !== 'timestamp') return name;
  const value = column.type === 'date' ? name : `(${name} AT TIME ZONE 'UTC')`;
  const era = `CASE WHEN ${value} < '0001-01-01' THEN ' (BC)' ELSE '' END`;
  const time = column.type === 'date' ? '' : ` || to_char(${value}, ' HH24:MI:SS.US') || '+00'`;
  return `CASE WHEN isfinite(${name}) THEN to_char(${value}, 'YYYY-MM-DD') || ${era}${time} ELSE ${name}::text END`;
}

/**
 * Writes a dataset's PostgreSQL table, in row order, as the Parquet file of
 * its current version, and names it in the catalog in the caller's
 * transaction. The rows leave PostgreSQL as CSV (`""` an empty string, an
 * empty field NULL, dates and timestamps as DuckDB writes them, in UTC) and DuckDB reads them back with the
 * dataset's own types. A failure leaves no file behind.
 */
export async function writeVersionFromTable(
  client: PoolClient,
  dataset: Dataset,
  files: DatasetFiles,
  repository: DatasetsRepository,
): Promise<string[]> {
  const columns = dataset.columns.map(exported).join(', ');
  await mkdir(files.uploadDir, { recursive: true });
  const csv = path.join(files.uploadDir, `table-${randomUUID()}.csv`);
  const staged = await files.storage.stage(dataset.id);
  try {
    await pipeline(
      client.query(
        copyTo(
          `COPY (SELECT ${columns} FROM ${qualifiedTable(dataset)} ORDER BY ${quoteIdent(ROW_ID_COLUMN)}) TO STDOUT (FORMAT csv)`,
        ),
      ),
      createWriteStream(csv),
    );
    const written = await files.engine.writer.fromFile({
      input: csv,
      reader: {
        format: 'csv',
        delimiter: ',',
        header: false,
        quote: '"',
        escape: '"',
        quotedNulls: false,
        columns: Object.fromEntries(dataset.columns.map((column) => [column.name, DUCK_TYPE[column.type]])),
      },
      outDir: staged.dir,
    });
    const keys = await files.storage.publish(staged, written.files);
    await repository.recordFiles(client, dataset, keys);
    return keys;
  } catch (error) {
    await files.storage.discard(staged);
    throw error;
  } finally {
    await rm(csv, { force: true });
  }
}
