import type { PoolClient } from '@datalab/platform';
import { qualifiedTable, type ColumnType, type Dataset } from '../datasets/datasets.types.ts';
import type { ColumnProfile } from './browse.schemas.ts';
import {
  NUMBER_TYPES,
  TIME_TYPES,
  createSample,
  frequencies,
  histograms,
  quantiles,
  tableAggregates,
  type BinnedColumn,
  type ColumnAggregates,
  type ColumnFrequencies,
  type IndexedColumn,
} from './profile-stats.repository.ts';
import { bins, estimateDistinct, finiteOrNull, scaleCounts, typedValue } from './profile-stats.ts';
import type { ProfileBody } from './profile.repository.ts';

/** Up to this many rows every statistic is exact; above, the costly ones come from a sample. */
const EXACT_PROFILE_MAX_ROWS = 100_000;
/** About this many rows are sampled from a larger table. */
const PROFILE_SAMPLE_ROWS = 50_000;
export const TOP_VALUES = 10;
export const TOP_TYPES: ReadonlySet<ColumnType> = new Set(['text', 'boolean', 'integer']);

export interface ColumnStats {
  column: IndexedColumn & { original_name: string };
  aggregates: ColumnAggregates;
  frequencies: ColumnFrequencies;
  quantiles: (number | null)[] | undefined;
  bins: number[] | undefined;
  sampled: boolean;
}

const NO_FREQUENCIES: ColumnFrequencies = { values: 0, distinct: 0, singles: 0, top: [] };

function histogramOf({ column, aggregates, bins: counts, sampled }: ColumnStats): ColumnProfile['histogram'] {
  const { count, low, high } = aggregates;
  if (count === 0) return [];
  if (low === null || high === null) return null;
  const time = TIME_TYPES.has(column.type);
  // One value throughout: one bin holding it, however wide bins would have been.
  if (low === high) return bins(low, high, [count], time);
  if (!counts) return null;
  if (!sampled) return bins(low, high, counts, time);
  // A sparse column may have no value in the sample: then its shape is unknown.
  return counts.some((n) => n > 0) ? bins(low, high, scaleCounts(counts, count), time) : null;
}

/** One column of the profile from its statistics; the partitioned profile job assembles its merged ones with it too. */
export function columnProfile(stats: ColumnStats, rows: number): ColumnProfile {
  const { column, aggregates, frequencies: seen, sampled } = stats;
  const isNumber = NUMBER_TYPES.has(column.type);
  const scale = sampled && seen.values > 0 ? aggregates.count / seen.values : 1;
  const [p25 = null, p50 = null, p75 = null] = (stats.quantiles ?? []).map(finiteOrNull);
  return {
    name: column.name,
    original_name: column.original_name,
    type: column.type,
    count: aggregates.count,
    nulls: rows - aggregates.count,
    distinct: sampled ? estimateDistinct(seen, aggregates.count) : seen.distinct,
    distinct_approximate: sampled,
    min: aggregates.min,
    max: aggregates.max,
    mean: isNumber ? finiteOrNull(aggregates.mean) : null,
    stddev: isNumber ? finiteOrNull(aggregates.stddev) : null,
    quantiles: isNumber ? { p25, p50, p75 } : null,
    top_values: TOP_TYPES.has(column.type)
      ? seen.top.map(([value, count]) => ({
          value: typedValue(column.type, value),
          count: Math.round(count * scale),
        }))
      : null,
    histogram: isNumber || TIME_TYPES.has(column.type) ? histogramOf(stats) : null,
  };
}

/**
 * Every column's profile in a handful of scans: exact aggregates over the whole
 * table first; then distinct counts, top values, quantiles and histograms over
 * the table when it is small, or over a random sample when it is large.
 */
export async function computeProfile(db: PoolClient, dataset: Dataset): Promise<ProfileBody> {
  const columns = dataset.columns.map((column, index) => ({ ...column, index }));
  const whole = await tableAggregates(db, dataset, columns);
  const sampled = whole.rows > EXACT_PROFILE_MAX_ROWS;
  const { source, rows: sampleRows } = sampled
    ? await createSample(db, dataset, PROFILE_SAMPLE_ROWS / whole.rows)
    : { source: qualifiedTable(dataset), rows: whole.rows };

  const withTop = new Set(columns.filter((c) => TOP_TYPES.has(c.type)).map((c) => c.index));
  const seen = await frequencies(db, source, columns, withTop, TOP_VALUES);
  const quantilesOf = await quantiles(
    db,
    source,
    columns.filter((c) => NUMBER_TYPES.has(c.type)),
  );
  const binnable: BinnedColumn[] = columns.flatMap((column) => {
    const { low, high } = whole.columns.get(column.index) ?? {};
    const fits =
      (NUMBER_TYPES.has(column.type) || TIME_TYPES.has(column.type)) && low != null && high != null;
    return fits && low < high ? [{ ...column, low, high }] : [];
  });
  const binsOf = await histograms(db, source, binnable);

  return {
    dataset_id: dataset.id,
    version: dataset.version,
    row_count: whole.rows,
    sampled,
    sample_rows: sampled ? sampleRows : null,
    columns: columns.map((column) =>
      columnProfile(
        {
          column,
          aggregates: whole.columns.get(column.index)!,
          frequencies: seen.get(column.index) ?? NO_FREQUENCIES,
          quantiles: quantilesOf.get(column.index),
          bins: binsOf.get(column.index),
          sampled,
        },
        whole.rows,
      ),
    ),
  };
}
