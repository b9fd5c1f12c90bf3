import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { inTransaction } from '../datasets/dataset-tables.ts';
import type { DatasetColumn } from '../datasets/datasets.types.ts';
import type { DatasetFiles } from '../versions/dataset-files.ts';
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
import { copyVersionToTable } from './version-table.ts';

/**
 * A job's dataset made as the design has it: the rows are written as a new
 * version's Parquet files in a staged folder, the files are made durable,
 * and only then is the catalog entry committed naming them. A job that fails
 * or is cancelled leaves no file and no entry; an attempt that runs again
 * after its job's dataset was committed answers with that dataset.
 */

export interface WrittenVersion {
  /** The files written in the staged folder, in row order. */
  files: string[];
  rows: number;
  columns: DatasetColumn[];
  /** Rows an import skipped (`on_error: skip`). */
  rowsRejected?: number;
  sourceFormat: string;
}

async function bytesOf(files: readonly string[]): Promise<number> {
  const sizes = await Promise.all(files.map(async (file) => (await stat(file)).size));
  return sizes.reduce((sum, size) => sum + size, 0);
}

/** `write` puts the version's files in `outDir` (empty, in the dataset storage) and says what it wrote. */
export async function writeVersionOutput(
  context: DataJobContext,
  job: OutputJob,
  write: (files: DatasetFiles, outDir: string) => Promise<WrittenVersion>,
): Promise<OutputResult> {
  const done = await context.repository.findByJob(job.jobId);
  if (done) return resultOf(done);
  const name = outputName(job);
  // Checked again when committing; checked first so that a taken name costs no work.
  await assertNameFree(context.repository, name);
  const files = await context.files();
  // The files are stored under the dataset's id before the dataset exists.
  const id = randomUUID();
  const staged = await files.storage.stage(id);
  let written: WrittenVersion;
  let keys: string[];
  let bytes: number;
  try {
    written = await write(files, staged.dir);
    bytes = await bytesOf(written.files);
    keys = await files.storage.publish(staged, written.files);
  } catch (error) {
    await files.storage.discard(staged);
    throw error;
  }

  let committing = false;
  try {
    const outcome = await inTransaction(context.pool, async (client) => {
      const again = await lockOutput(context.repository, client, job.jobId);
      if (again) return { dataset: again, made: false };
      await assertNameFree(context.repository, name, client);
      const dataset = await insertOutput(context.repository, client, job, {
        id,
        name,
        tableName: outputTableName(job.jobId),
        columns: written.columns,
        sourceFormat: written.sourceFormat,
        rows: written.rows,
        rowsRejected: written.rowsRejected ?? 0,
        bytes,
      });
      await context.repository.recordFiles(client, dataset, keys);
      // Transition (#18): remove this call, with version-table.ts, when no read path reads tables.
      await copyVersionToTable(client, dataset, { files, keys, signal: job.signal });
      committing = true;
      return { dataset, made: true };
    });
    // Another attempt of the job committed first: these files are nobody's.
    if (!outcome.made) await files.storage.remove(keys);
    return resultOf(outcome.dataset);
  } catch (error) {
    // Rolled back, so no entry names the files. Past `committing` the COMMIT itself failed and
    // may have happened: the files stay, and the sweeper removes them if no entry names them.
    if (!committing) await files.storage.remove(keys).catch(() => undefined);
    throw error;
  }
}
