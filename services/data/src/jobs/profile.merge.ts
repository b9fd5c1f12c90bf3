import type { ColumnAggregates, ColumnFrequencies } from '../browse/profile-stats.repository.ts';
import type { ColumnType } from '../datasets/datasets.types.ts';
import type { PartialAggregates, PartialFrequencies } from './profile-partition.repository.ts';

/** Pure merging of partition statistics into what one pass over the whole table would have found. */

/** Orders two min/max keys of a column: exact integers (as text), floats, or text by UTF-8 bytes (COLLATE "C"). */
function compareKeys(type: ColumnType, a: string | number, b: string | number): number {
  if (type === 'integer' || type === 'date' || type === 'timestamp') {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (type === 'float') {
    // PostgreSQL sorts NaN above every number.
    const x = Number(a);
    const y = Number(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : -1;
    return x - y;
  }
  return Buffer.compare(Buffer.from(String(a)), Buffer.from(String(b)));
}

export interface MergedAggregates extends ColumnAggregates {
  /** Sum of squared deviations from the mean, kept for the standard deviation. */
  m2: number | null;
}

/** Chan et al.'s pairwise update: the mean and M2 of two parts from theirs. */
function combine(
  a: { n: number; mean: number; m2: number },
  b: { n: number; mean: number; m2: number },
): { n: number; mean: number; m2: number } {
  const n = a.n + b.n;
  const delta = b.mean - a.mean;
  return { n, mean: a.mean + (delta * b.n) / n, m2: a.m2 + b.m2 + (delta * delta * a.n * b.n) / n };
}

export function mergeAggregates(type: ColumnType, parts: readonly PartialAggregates[]): MergedAggregates {
  let count = 0;
  let min: PartialAggregates | undefined;
  let max: PartialAggregates | undefined;
  let moments: { n: number; mean: number; m2: number } | undefined;
  let low: number | null = null;
  let high: number | null = null;
  for (const part of parts) {
    count += part.count;
    if (part.count === 0) continue;
    if (part.minKey !== null && (!min || compareKeys(type, part.minKey, min.minKey!) < 0)) min = part;
    if (part.maxKey !== null && (!max || compareKeys(type, part.maxKey, max.maxKey!) > 0)) max = part;
    if (part.mean !== null && part.m2 !== null) {
      const next = { n: part.count, mean: part.mean, m2: part.m2 };
      moments = moments ? combine(moments, next) : next;
    }
    if (part.low !== null) low = low === null ? part.low : Math.min(low, part.low);
    if (part.high !== null) high = high === null ? part.high : Math.max(high, part.high);
  }
  const stddev = moments && moments.n > 1 ? Math.sqrt(moments.m2 / (moments.n - 1)) : null;
  return {
    count,
    min: min?.min ?? null,
    max: max?.max ?? null,
    mean: moments?.mean ?? null,
    stddev,
    m2: moments?.m2 ?? null,
    low,
    high,
  };
}

/** Most frequent first; ties by the value's bytes, as the single pass orders them (COLLATE "C"). */
function byFrequency(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0]));
}

/** Hash partitions hold disjoint values: counts add up, and the top values are the top of the partitions' tops. */
export function mergeFrequencies(
  parts: readonly (PartialFrequencies | undefined)[],
  top: number,
): ColumnFrequencies {
  const merged: ColumnFrequencies = { values: 0, distinct: 0, singles: 0, top: [] };
  for (const part of parts) {
    if (!part) continue;
    merged.values += part.values;
    merged.distinct += part.distinct;
    merged.singles += part.singles;
    merged.top.push(...part.top);
  }
  merged.top = merged.top.sort(byFrequency).slice(0, top);
  return merged;
}

export function sumBins(parts: readonly (number[] | undefined)[]): number[] | undefined {
  const present = parts.filter((bins): bins is number[] => bins !== undefined);
  if (present.length === 0) return undefined;
  return present.reduce((sum, bins) => sum.map((n, i) => n + (bins[i] ?? 0)));
}

/** Where the 0-based rank `rank` lies: its bin (1-based, as width_bucket numbers them) and place in that bin. */
export function locateRank(bins: readonly number[], rank: number): { bin: number; offset: number } {
  let before = 0;
  for (const [i, n] of bins.entries()) {
    if (rank < before + n) return { bin: i + 1, offset: rank - before };
    before += n;
  }
  throw new Error(`rank ${rank} is beyond the ${before} values binned`);
}

export const QUANTILES = [0.25, 0.5, 0.75] as const;

/** The ranks percentile_cont reads for each quantile of `count` values, and how to interpolate between them. */
export function quantileRanks(count: number): { lower: number; upper: number; fraction: number }[] {
  return QUANTILES.map((p) => {
    const position = p * (count - 1);
    const lower = Math.floor(position);
    return { lower, upper: Math.ceil(position), fraction: position - lower };
  });
}

/** percentile_cont's interpolation between the two values around the position. */
export function interpolate(lower: number, upper: number, fraction: number): number {
  return fraction === 0 ? lower : lower + (upper - lower) * fraction;
}
