import { Type, type Static } from 'typebox';
import { AppError, type PoolClient, type Principal } from '@datalab/platform';
import type { DatasetsRepository } from '../datasets/datasets.repository.ts';
import type { Dataset, DatasetColumn } from '../datasets/datasets.types.ts';

/** What every job that makes a dataset shares: its params, its result, its key. */

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

export interface OutputJob {
  jobId: string;
  /** Used in the default name. */
  type: string;
  owner: Principal;
  options: OutputOptions;
  /** The job's: aborted on cancel, timeout or shutdown. */
  signal: AbortSignal;
}

/** The PostgreSQL table a job's dataset is filled into while read paths still read tables (#18). */
export function outputTableName(jobId: string): string {
  return `j_${jobId.replace(/-/g, '').toLowerCase()}`;
}

/** The name asked for, else the job's type and the start of its id. */
export function outputName(job: OutputJob): string {
  const start = job.jobId.replace(/-/g, '').toLowerCase().slice(0, 12);
  return job.options.name ?? `${job.type.replace(/-/g, '_')}_${start}`;
}

export function resultOf(dataset: Dataset): OutputResult {
  return {
    dataset_id: dataset.id,
    name: dataset.name,
    row_count: dataset.rowCount,
    columns: dataset.columns,
    url: `/api/v1/data/datasets/${dataset.id}`,
  };
}

/**
 * Takes the job's lock for the rest of the transaction and answers the dataset an attempt of the
 * job already committed, if any. Two attempts of one job (a worker presumed dead that was not)
 * queue up on the lock until the first commits; the second then finds the first's dataset by the
 * job id and answers with it instead of making a second one.
 */
export async function lockOutput(
  repository: DatasetsRepository,
  client: PoolClient,
  jobId: string,
): Promise<Dataset | undefined> {
  await client.query("SELECT pg_advisory_xact_lock(hashtext('datalab.job-output'), hashtext($1))", [jobId]);
  return repository.findByJob(jobId, client);
}

/** What a job made, as its dataset's first version records it. */
export interface MadeOutput {
  /** When the files were stored under the dataset's id before the entry existed. */
  id?: string;
  name: string;
  tableName: string;
  columns: DatasetColumn[];
  sourceFormat: string;
  rows: number;
  /** Rows an import skipped (`on_error: skip`). */
  rowsRejected?: number;
  bytes: number;
}

/** Adds the job's dataset to the catalog, owned by the job's owner and keyed by the job, at version 1. */
export async function insertOutput(
  repository: DatasetsRepository,
  client: PoolClient,
  job: OutputJob,
  made: MadeOutput,
): Promise<Dataset> {
  const dataset = await repository.insert(client, {
    ...(made.id ? { id: made.id } : {}),
    name: made.name,
    description: job.options.description ?? '',
    ownerId: job.owner.userId,
    visibility: job.options.visibility ?? 'private',
    tableName: made.tableName,
    columns: made.columns,
    sourceFormat: made.sourceFormat,
    jobId: job.jobId,
  });
  return repository.recordWrite(client, dataset.id, {
    rowCount: made.rows,
    bytes: made.bytes,
    mode: 'create',
    rowsWritten: made.rows,
    rowsRejected: made.rowsRejected ?? 0,
    by: job.owner.userId,
  });
}

export async function assertNameFree(
  repository: DatasetsRepository,
  name: string,
  db?: PoolClient,
): Promise<void> {
  if (await repository.find(name, db))
    throw new AppError('conflict', `A dataset named "${name}" exists already`, {
      errors: [{ field: 'params.name', message: 'is taken' }],
    });
}
