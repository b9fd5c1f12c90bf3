/** Pure arithmetic behind a profile's histograms and statistics. */

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

/** JSON has no NaN or infinities; a statistic that is one is reported as unknown. */
export function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
