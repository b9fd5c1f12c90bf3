import type { ColumnType } from '../datasets/datasets.types.ts';
import { integerValue } from './row-values.ts';

/** Pure arithmetic behind a profile: estimates from a sample, scaling, bins. */

/**
 * Distinct values in the whole column from a random sample of it: the Haas–Stokes
 * "Duj1" estimator PostgreSQL's ANALYZE uses, n·d / (n − f1 + f1·n/N). Values
 * seen once in the sample (f1) suggest many more unseen; none suggests d is all.
 * Clamped to what is possible: at least what the sample saw, at most one per value.
 */
export function estimateDistinct(
  sample: { values: number; distinct: number; singles: number },
  total: number,
): number {
  const { values: n, distinct: d, singles: f1 } = sample;
  if (total === 0) return 0;
  if (n === 0) return 1;
  const estimate = (n * d) / (n - f1 + (f1 * n) / total);
  return Math.round(Math.min(total, Math.max(d, estimate)));
}

/**
 * Sample counts scaled to a total, as whole numbers that add up to it exactly
 * (largest remainder): a sampled histogram still sums to the column's count.
 */
export function scaleCounts(counts: readonly number[], total: number): number[] {
  const seen = counts.reduce((sum, n) => sum + n, 0);
  if (seen === 0) return counts.map(() => 0);
  const exact = counts.map((n) => (n * total) / seen);
  const scaled = exact.map(Math.floor);
  const short = total - scaled.reduce((sum, n) => sum + n, 0);
  const byRemainder = exact.map((x, i) => ({ i, rest: x - Math.floor(x) })).sort((a, b) => b.rest - a.rest);
  for (const { i } of byRemainder.slice(0, short)) scaled[i] = (scaled[i] ?? 0) + 1;
  return scaled;
}

export interface Bin {
  lower: number | string;
  upper: number | string;
  count: number;
}

/** Equal-width bins from low to high; dates and timestamps (epoch seconds) get RFC 3339 bounds. */
export function bins(low: number, high: number, counts: readonly number[], time: boolean): Bin[] {
  const width = (high - low) / counts.length;
  const bound = (x: number) => (time ? new Date(x * 1000).toISOString() : x);
  return counts.map((count, i) => ({
    lower: bound(low + i * width),
    upper: bound(i === counts.length - 1 ? high : low + (i + 1) * width),
    count,
  }));
}

/** A most-frequent value, grouped as text, back in its column's JSON form. */
export function typedValue(type: ColumnType, text: string): unknown {
  if (type === 'integer') return integerValue(text);
  if (type === 'boolean') return text === 'true';
  return text;
}

/** JSON has no NaN or infinities; a statistic that is one is reported as unknown. */
export function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
