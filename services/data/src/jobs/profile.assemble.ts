import type { ColumnFrequencies } from '../browse/profile-stats.repository.ts';
import { NUMBER_TYPES, TIME_TYPES, type BinnedColumn } from '../browse/profile-stats.repository.ts';
import { columnProfile } from '../browse/profile.compute.ts';
import type { ProfileBody } from '../browse/profile.repository.ts';
import type { Dataset, DatasetColumn } from '../datasets/datasets.types.ts';
import { interpolate, locateRank, quantileRanks, type MergedAggregates } from './profile.merge.ts';

/** A column with its place in the dataset's column list. */
export type ProfiledColumn = DatasetColumn & { index: number };

/** Columns with a histogram: numbers, dates and timestamps whose values are not all one. */
export function binnedColumns(
  columns: readonly ProfiledColumn[],
  merged: ReadonlyMap<number, MergedAggregates>,
): BinnedColumn[] {
  return columns.flatMap((column) => {
    const { low, high } = merged.get(column.index) ?? {};
    const fits =
      (NUMBER_TYPES.has(column.type) || TIME_TYPES.has(column.type)) && low != null && high != null;
    return fits && low < high ? [{ ...column, low, high }] : [];
  });
}

/**
 * p25, p50 and p75 of each numeric column as percentile_cont computes them
 * (interpolating between the values at two ranks), the values found by rank
 * inside the histogram bins the merged counts place them in.
 */
export async function quantileLookups(
  numeric: readonly ProfiledColumn[],
  merged: ReadonlyMap<number, MergedAggregates>,
  bins: ReadonlyMap<number, number[]>,
  lookup: (
    column: BinnedColumn,
    wanted: { bin: number; offset: number }[],
  ) => Promise<ReadonlyMap<string, number>>,
): Promise<Map<number, (number | null)[]>> {
  const found = new Map<number, (number | null)[]>();
  for (const column of numeric) {
    const { count, low, high } = merged.get(column.index)!;
    const counts = bins.get(column.index);
    if (count === 0 || low === null || high === null) {
      found.set(column.index, [null, null, null]);
      continue;
    }
    if (!counts || low === high) {
      found.set(column.index, [low, low, low]);
      continue;
    }
    const ranks = quantileRanks(count);
    const places = new Map<number, { bin: number; offset: number }>();
    for (const { lower, upper } of ranks)
      for (const rank of [lower, upper]) places.set(rank, locateRank(counts, rank));
    const values = await lookup({ ...column, low, high }, [...places.values()]);
    const at = (rank: number): number => {
      const place = places.get(rank)!;
      const value = values.get(`${place.bin}:${place.offset}`);
      if (value === undefined) throw new Error(`no value at rank ${rank} of ${column.name}`);
      return value;
    };
    found.set(
      column.index,
      ranks.map(({ lower, upper, fraction }) => interpolate(at(lower), at(upper), fraction)),
    );
  }
  return found;
}

export interface MergedStats {
  merged: ReadonlyMap<number, MergedAggregates>;
  bins: ReadonlyMap<number, number[]>;
  frequencies: ReadonlyMap<number, ColumnFrequencies>;
  quantiles: ReadonlyMap<number, (number | null)[]>;
}

/** The profile in the same shape (and by the same code) as the single-pass one, with every statistic exact. */
export function assembleProfile(
  dataset: Pick<Dataset, 'id' | 'version'>,
  rows: number,
  columns: readonly ProfiledColumn[],
  stats: MergedStats,
): ProfileBody {
  return {
    dataset_id: dataset.id,
    version: dataset.version,
    row_count: rows,
    sampled: false,
    sample_rows: null,
    columns: columns.map((column) =>
      columnProfile(
        {
          column,
          aggregates: stats.merged.get(column.index)!,
          frequencies: stats.frequencies.get(column.index)!,
          quantiles: stats.quantiles.get(column.index),
          bins: stats.bins.get(column.index),
          sampled: false,
        },
        rows,
      ),
    ),
  };
}
