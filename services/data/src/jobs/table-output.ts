import type { PoolClient } from '@datalab/platform';
import { inTransaction, indexDatasetTable, tableBytes } from '../datasets/dataset-tables.ts';
import type { DatasetColumn } from '../datasets/datasets.types.ts';
import { writeVersionFromTable } from '../versions/table-version.ts';
import type { DataJobContext } from './job-context.ts';
import {
  assertNameFree,
  insertOutput,
  lockOutput,
  outputName,
  outputTableName,
  resultOf,
  type OutputJob,
  type OutputResult,
} from './job-output.ts';

/**
 * A job's dataset made by filling a PostgreSQL table, then written as its
 * version's Parquet file from that table (the foundation's dual write). Only
 * `import-url` still makes datasets this way: it ingests through the
 * pipeline that loads tables; it moves to writeVersionOutput when ingest
 * writes Parquet itself.
 */

export interface Filled {
  columns: DatasetColumn[];
  rowsWritten: number;
  /** Rows an import skipped (`on_error: skip`). */
  rowsRejected?: number;
  sourceFormat: string;
}

/**
 * Makes the job's dataset in one transaction: `fill` creates the table named
 * `tableName` and loads it; the catalog entry and the version's file are
 * added and committed with it, or nothing is left at all.
 */
export async function writeTableOutput(
  context: DataJobContext,
  job: OutputJob,
  fill: (client: PoolClient, tableName: string) => Promise<Filled>,
): Promise<OutputResult> {
  const done = await context.repository.findByJob(job.jobId);
  if (done) return resultOf(done);
  const tableName = outputTableName(job.jobId);
  const name = outputName(job);
  return inTransaction(context.pool, async (client) => {
    const again = await lockOutput(context.repository, client, job.jobId);
    if (again) return resultOf(again);
    await assertNameFree(context.repository, name, client);
    await client.query("SET LOCAL TimeZone = 'UTC'");
    const filled = await fill(client, tableName);
    await indexDatasetTable(client, tableName);
    const written = await insertOutput(context.repository, client, job, {
      name,
      tableName,
      columns: filled.columns,
      sourceFormat: filled.sourceFormat,
      rows: filled.rowsWritten,
      rowsRejected: filled.rowsRejected ?? 0,
      bytes: await tableBytes(client, tableName),
    });
    await writeVersionFromTable(client, written, await context.files(), context.repository);
    return resultOf(written);
  });
}
