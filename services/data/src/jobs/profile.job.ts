import { Type } from 'typebox';
import { defineJobType, type JobType } from '@datalab/platform';
import { NUMBER_TYPES } from '../browse/profile-stats.repository.ts';
import { TOP_VALUES } from '../browse/profile.compute.ts';
import type { Dataset } from '../datasets/datasets.types.ts';
import { computeJobsAs, type ComputeJobs } from './compute-client.ts';
import { asJobError, type DataJobContext } from './job-context.ts';
import type { AggregatesResult, DistributionResult, PartitionParams } from './profile-partition.job.ts';
import { createPartitionRepository, type RowRange } from './profile-partition.repository.ts';
import { assembleProfile, binnedColumns, quantileLookups, type ProfiledColumn } from './profile.assemble.ts';
import { mergeAggregates, mergeFrequencies, sumBins, type MergedAggregates } from './profile.merge.ts';

export const ProfileParams = Type.Object(
  {
    dataset: Type.String({ minLength: 1, maxLength: 100, description: 'A dataset, by name or id.' }),
    partitions: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 64,
        description: 'Partition jobs per phase, run in parallel by whichever workers take them (default 4).',
      }),
    ),
  },
  { additionalProperties: false },
);

const DEFAULT_PARTITIONS = 4;
const CHILD_TYPE = 'profile-partition';
const LIVE = new Set(['queued', 'running', 'succeeded']);

/** `partitions` contiguous ranges covering `range`. */
export function splitRange(range: RowRange | undefined, partitions: number): RowRange[] {
  if (!range) return Array.from({ length: partitions }, () => ({ from: 1, to: 0 }));
  const size = Math.ceil((range.to - range.from + 1) / partitions);
  return Array.from({ length: partitions }, (_, i) => ({
    from: range.from + i * size,
    to: Math.min(range.to, range.from + (i + 1) * size - 1),
  }));
}

/** Children of this job from an earlier attempt are taken up again; the others are submitted. */
async function fanOut(
  compute: ComputeJobs,
  parent: string,
  phase: PartitionParams['phase'],
  all: PartitionParams[],
  submitted: string[],
): Promise<string[]> {
  const earlier = await compute.find(CHILD_TYPE, (p) => p.parent === parent && p.phase === phase);
  const ids: string[] = [];
  for (const params of all) {
    const reused = earlier.find((job) => job.params.partition === params.partition && LIVE.has(job.state));
    const id = reused?.id ?? (await compute.submit(CHILD_TYPE, { ...params })).id;
    submitted.push(id);
    ids.push(id);
  }
  return ids;
}

/**
 * `profile`: the exact profile of a large dataset (no sampling), computed by
 * partition jobs in two phases — aggregates over row ranges, then histograms
 * over the global bounds and distinct values by value hash — merged here, with
 * quantiles read from inside the bins that hold them. The profile is stored as
 * the dataset version's profile (GET …/profile serves it) and is the job's result.
 */
export function profileJob(context: DataJobContext): JobType {
  const repository = createPartitionRepository(context.pool);

  async function run(
    jobId: string,
    dataset: Dataset,
    partitions: number,
    compute: ComputeJobs,
    submitted: string[],
    signal: AbortSignal,
    progress: (percent: number, message?: string) => Promise<void>,
  ) {
    const columns: ProfiledColumn[] = dataset.columns.map((column, index) => ({ ...column, index }));
    const range = await repository.atVersion(dataset.id, dataset.version, (db, table) =>
      repository.rowIdRange(db, table),
    );
    const base = { parent: jobId, dataset_id: dataset.id, version: dataset.version, partitions };
    const ranges = splitRange(range, partitions);
    const phase = (name: PartitionParams['phase'], extra: Partial<PartitionParams> = {}) =>
      ranges.map((r, partition) => ({
        ...base,
        ...extra,
        phase: name,
        partition,
        from_row: r.from,
        to_row: r.to,
      }));

    const first = await fanOut(compute, jobId, 'aggregates', phase('aggregates'), submitted);
    const aggregates = (await compute.results(first, signal, (done) =>
      progress(5 + (40 * done) / partitions, `aggregates: ${done} of ${partitions} partitions`),
    )) as AggregatesResult[];
    const merged = new Map<number, MergedAggregates>(
      columns.map((c) => [
        c.index,
        mergeAggregates(
          c.type,
          aggregates.map((part) => part.columns[c.index]!),
        ),
      ]),
    );
    const rows = aggregates.reduce((sum, part) => sum + part.rows, 0);

    const binned = binnedColumns(columns, merged);
    const bounds = binned.map(({ index, low, high }) => ({ index, low, high }));
    const second = await fanOut(compute, jobId, 'distribution', phase('distribution', { bounds }), submitted);
    const distributions = (await compute.results(second, signal, (done) =>
      progress(45 + (45 * done) / partitions, `distribution: ${done} of ${partitions} partitions`),
    )) as DistributionResult[];
    const bins = new Map(binned.map((c) => [c.index, sumBins(distributions.map((d) => d.bins[c.index]))!]));
    const frequencies = new Map(
      columns.map((c) => [
        c.index,
        mergeFrequencies(
          distributions.map((d) => d.frequencies[c.index]),
          TOP_VALUES,
        ),
      ]),
    );

    await progress(92, 'quantiles');
    const quantiles = await repository.atVersion(dataset.id, dataset.version, (db, table) =>
      quantileLookups(
        columns.filter((c) => NUMBER_TYPES.has(c.type)),
        merged,
        bins,
        (column, wanted) => repository.valuesAtRanks(db, table, column, wanted),
      ),
    );
    return assembleProfile(dataset, rows, columns, { merged, bins, frequencies, quantiles });
  }

  return defineJobType({
    type: 'profile',
    queue: 'data',
    params: ProfileParams,
    timeoutMs: 2 * 60 * 60_000,
    maxAttempts: 3,
    handler: ({ jobId, params, owner, signal, progress, log }) =>
      asJobError(async () => {
        const dataset = await context.catalog.readable(owner, params.dataset);
        const partitions = params.partitions ?? DEFAULT_PARTITIONS;
        const compute = computeJobsAs(context, owner);
        const submitted: string[] = [];
        try {
          await log('info', `profiling ${dataset.name} v${dataset.version} in ${partitions} partitions`);
          const profile = await run(jobId, dataset, partitions, compute, submitted, signal, progress);
          const stored = await repository.storeProfile(profile);
          await progress(100, `${profile.row_count} rows, ${profile.columns.length} columns`);
          return {
            dataset_id: dataset.id,
            version: dataset.version,
            partitions,
            stored,
            url: `/api/v1/data/datasets/${dataset.id}/profile`,
            profile,
          };
        } catch (error) {
          if (signal.aborted) await compute.cancel(submitted);
          throw error;
        } finally {
          await compute.close();
        }
      }),
  });
}
