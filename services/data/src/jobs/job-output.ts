import { Type, type Static } from 'typebox';
import { AppError, type PoolClient, type Principal } from '@datalab/platform';
import { inTransaction, indexDatasetTable, tableBytes } from '../datasets/dataset-tables.ts';
import type { Dataset, DatasetColumn } from '../datasets/datasets.types.ts';
import { writeVersionFromTable } from '../versions/table-version.ts';
import type { DataJobContext } from './job-context.ts';

/** The params every job that makes a dataset takes, beside its own. */
export const OutputParams = {
  name: Type.Optional(
    Type.String({
      pattern: '^[a-z_][a-z0-9_]{0,62}$',
      description: 'Name of the new dataset (a SQL identifier). Default: `<type>_<start of the job id>`.',
    }),
  ),
  description: Type.Optional(Type.String({ maxLength: 4000 })),
  visibility: Type.Optional(
    Type.Union([Type.Literal('private'), Type.Literal('shared')], { description: 'Default private.' }),
  ),
};
export const OutputParamsObject = Type.Object(OutputParams);
export type OutputOptions = Static<typeof OutputParamsObject>;

/** What a job that made a dataset stores as its result. */
export interface OutputResult {
  dataset_id: string;
  name: string;
  row_count: number;
  columns: DatasetColumn[];
  /** Where the dataset is read. */
  url: string;
}

export interface Filled {
  columns: DatasetColumn[];
  rowsWritten: number;
  /** Rows an import skipped (`on_error: skip`). */
  rowsRejected?: number;
  sourceFormat: string;
}

/**
 * The job's output table is named after the job, so it is the job's key: an
 * attempt that finds it knows a previous attempt of the same job committed,
 * and answers with that dataset instead of making a second one.
 */
export function outputTableName(jobId: string): string {
  return `j_${jobId.replace(/-/g, '').toLowerCase()}`;
}

function resultOf(dataset: Dataset): OutputResult {
  return {
    dataset_id: dataset.id,
    name: dataset.name,
    row_count: dataset.rowCount,
    columns: dataset.columns,
    url: `/api/v1/data/datasets/${dataset.id}`,
  };
}

async function findOutput(db: PoolClient | DataJobContext['pool'], tableName: string) {
  const found = await db.query<{ id: string }>('SELECT id FROM data.datasets WHERE table_name = $1', [
    tableName,
  ]);
  return found.rows[0]?.id;
}

export interface OutputJob {
  jobId: string;
  /** Used in the default name. */
  type: string;
  owner: Principal;
  options: OutputOptions;
}

/**
 * Makes the job's dataset in one transaction: `fill` creates the table named
 * `tableName` and loads it; the metadata row is added and committed with it,
 * or nothing is left at all. The dataset belongs to the job's owner.
 */
export async function writeOutput(
  context: DataJobContext,
  job: OutputJob,
  fill: (client: PoolClient, tableName: string) => Promise<Filled>,
): Promise<OutputResult> {
  const tableName = outputTableName(job.jobId);
  const done = await findOutput(context.pool, tableName);
  if (done) return resultOf((await context.repository.find(done))!);
  const name = job.options.name ?? `${job.type.replace(/-/g, '_')}_${tableName.slice(2, 14)}`;
  return inTransaction(context.pool, async (client) => {
    // Two attempts of one job (a worker presumed dead that was not) queue up here; the second finds the first's.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('datalab.job-output'), hashtext($1))", [
      tableName,
    ]);
    const again = await findOutput(client, tableName);
    if (again) return resultOf((await context.repository.find(again, client))!);
    if (await context.repository.find(name, client))
      throw new AppError('conflict', `A dataset named "${name}" exists already`, {
        errors: [{ field: 'params.name', message: 'is taken' }],
      });
    await client.query("SET LOCAL TimeZone = 'UTC'");
    const filled = await fill(client, tableName);
    await indexDatasetTable(client, tableName);
    const dataset = await context.repository.insert(client, {
      name,
      description: job.options.description ?? '',
      ownerId: job.owner.userId,
      visibility: job.options.visibility ?? 'private',
      tableName,
      columns: filled.columns,
      sourceFormat: filled.sourceFormat,
    });
    const written = await context.repository.recordWrite(client, dataset.id, {
      rowCount: filled.rowsWritten,
      bytes: await tableBytes(client, tableName),
      mode: 'create',
      rowsWritten: filled.rowsWritten,
      rowsRejected: filled.rowsRejected ?? 0,
      by: job.owner.userId,
    });
    await writeVersionFromTable(client, written, await context.files(), context.repository);
    return resultOf(written);
  });
}
