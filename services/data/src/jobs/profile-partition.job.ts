import { Type, type Static } from 'typebox';
import { defineJobType, PermanentJobError, type JobType } from '@datalab/platform';
import { NUMBER_TYPES, TIME_TYPES, type BinnedColumn } from '../browse/profile-stats.repository.ts';
import { TOP_TYPES, TOP_VALUES } from '../browse/profile.compute.ts';
import { asJobError, type DataJobContext } from './job-context.ts';
import {
  createPartitionRepository,
  type PartialAggregates,
  type PartialFrequencies,
} from './profile-partition.repository.ts';

export const PartitionParams = Type.Object(
  {
    parent: Type.String({ format: 'uuid', description: 'The profile job this partition belongs to.' }),
    dataset_id: Type.String({ format: 'uuid' }),
    version: Type.Integer({ minimum: 1, description: 'The dataset version being profiled.' }),
    phase: Type.Union([Type.Literal('aggregates'), Type.Literal('distribution')]),
    partition: Type.Integer({ minimum: 0, maximum: 63 }),
    partitions: Type.Integer({ minimum: 1, maximum: 64 }),
    from_row: Type.Integer({ description: 'First _row_id of the range.' }),
    to_row: Type.Integer({ description: 'Last _row_id of the range.' }),
    bounds: Type.Optional(
      Type.Array(
        Type.Object({ index: Type.Integer({ minimum: 0 }), low: Type.Number(), high: Type.Number() }),
        { description: 'distribution: global histogram bounds of each binned column.' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type PartitionParams = Static<typeof PartitionParams>;

export interface AggregatesResult {
  rows: number;
  columns: Record<number, PartialAggregates>;
}

export interface DistributionResult {
  bins: Record<number, number[]>;
  frequencies: Record<number, PartialFrequencies>;
}

/**
 * `profile-partition`: one partition of a `profile` job, run by whichever
 * worker takes it. `aggregates` reads the partition's row range;
 * `distribution` reads the range's histogram bins and the values whose hash
 * falls in this partition. Pure reads, so running it again gives the same answer.
 */
export function profilePartitionJob(context: DataJobContext): JobType {
  const repository = createPartitionRepository(context.pool);
  return defineJobType({
    type: 'profile-partition',
    queue: 'data-partitions',
    params: PartitionParams,
    timeoutMs: 60 * 60_000,
    maxAttempts: 3,
    handler: ({ params, owner, signal, progress }) =>
      asJobError(async (): Promise<AggregatesResult | DistributionResult> => {
        const dataset = await context.catalog.readable(owner, params.dataset_id);
        if (dataset.version !== params.version)
          throw new PermanentJobError('The dataset changed while it was being profiled; profile it again');
        const columns = dataset.columns.map((column, index) => ({ ...column, index }));
        const range = { from: params.from_row, to: params.to_row };
        const result = await repository.atVersion(dataset.id, params.version, async (db, table) => {
          if (params.phase === 'aggregates') return repository.aggregates(db, table, range, columns);
          const binned: BinnedColumn[] = (params.bounds ?? []).flatMap(({ index, low, high }) => {
            const column = columns[index];
            const fits = column && (NUMBER_TYPES.has(column.type) || TIME_TYPES.has(column.type));
            return fits ? [{ ...column, low, high }] : [];
          });
          const bins = await repository.bins(db, table, range, binned);
          signal.throwIfAborted();
          const withTop = columns.filter((c) => TOP_TYPES.has(c.type)).map((c) => c.index);
          const bucket = { index: params.partition, of: params.partitions };
          const frequencies = await repository.frequencies(db, table, bucket, columns, withTop, TOP_VALUES);
          return { bins, frequencies };
        });
        await progress(100);
        return result;
      }),
  });
}
