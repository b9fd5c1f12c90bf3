import type { PoolClient } from '@datalab/platform';
import { qualifiedTable, quoteIdent, type ColumnType, type Dataset } from '../datasets/datasets.types.ts';
import { valueTypes } from './row-values.ts';

/**
 * The statistics behind a profile, as few scans as possible: one SELECT of
 * every aggregate of every column, one GROUP BY of every column's values,
 * one of every quantile, one of every histogram bin. All run on the caller's
 * transaction, so they see one snapshot of the table.
 */

export const NUMBER_TYPES: ReadonlySet<ColumnType> = new Set(['integer', 'float']);
export const TIME_TYPES: ReadonlySet<ColumnType> = new Set(['date', 'timestamp']);
const ORDERED_TYPES: ReadonlySet<ColumnType> = new Set([...NUMBER_TYPES, ...TIME_TYPES, 'text']);
export const HISTOGRAM_BINS = 20;
// PostgreSQL allows 1,664 entries in a select list; a dataset may have up to 1,600 columns.
const COLUMNS_PER_SCAN = 200;

/** A column of the table (or of the sample), by its place in the dataset's column list. */
export interface IndexedColumn {
  index: number;
  name: string;
  type: ColumnType;
}

export interface ColumnAggregates {
  count: number;
  min: unknown;
  max: unknown;
  mean: unknown;
  stddev: unknown;
  /** The range as numbers (epoch seconds for dates and timestamps), where bins make sense. */
  low: number | null;
  high: number | null;
}

export interface ColumnFrequencies {
  /** Non-null values seen. */
  values: number;
  distinct: number;
  /** Values seen exactly once: what a distinct estimate from a sample rests on. */
  singles: number;
  /** Most frequent first: [value as text, count]. */
  top: [string, number][];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function aggregateItems({ index, name, type }: IndexedColumn): string[] {
  const c = quoteIdent(name);
  const items = [`count(${c}) AS n${index}`];
  if (ORDERED_TYPES.has(type)) {
    // Text compares by code point: the same answer whatever the database's collation.
    const ordered = type === 'text' ? `${c} COLLATE "C"` : c;
    items.push(`min(${ordered}) AS min${index}`, `max(${ordered}) AS max${index}`);
  }
  if (NUMBER_TYPES.has(type)) {
    items.push(
      `avg(${c})::float8 AS mean${index}`,
      `stddev_samp(${c})::float8 AS sd${index}`,
      `min(${c})::float8 AS lo${index}`,
      `max(${c})::float8 AS hi${index}`,
    );
  }
  if (TIME_TYPES.has(type)) {
    items.push(
      `extract(epoch FROM min(${c}))::float8 AS lo${index}`,
      `extract(epoch FROM max(${c}))::float8 AS hi${index}`,
    );
  }
  return items;
}

const numberOrNull = (value: unknown): number | null => (typeof value === 'number' ? value : null);

/** Row count and, for every column, count, min, max, mean and stddev over the whole table. */
export async function tableAggregates(
  db: PoolClient,
  dataset: Dataset,
  columns: IndexedColumn[],
): Promise<{ rows: number; columns: Map<number, ColumnAggregates> }> {
  let rows = 0;
  const found = new Map<number, ColumnAggregates>();
  for (const chunk of chunks(columns, COLUMNS_PER_SCAN)) {
    const select = ['count(*) AS rows', ...chunk.flatMap(aggregateItems)].join(', ');
    const result = await db.query<Record<string, unknown>>({
      text: `SELECT ${select} FROM ${qualifiedTable(dataset)}`,
      types: valueTypes,
    });
    const row = result.rows[0] ?? {};
    rows = Number(row.rows);
    for (const { index } of chunk) {
      found.set(index, {
        count: Number(row[`n${index}`]),
        min: row[`min${index}`] ?? null,
        max: row[`max${index}`] ?? null,
        mean: row[`mean${index}`] ?? null,
        stddev: row[`sd${index}`] ?? null,
        low: numberOrNull(row[`lo${index}`]),
        high: numberOrNull(row[`hi${index}`]),
      });
    }
  }
  return { rows, columns: found };
}

/** A uniform random sample of about `fraction` of the rows, in a table that goes away at commit. */
export async function createSample(
  db: PoolClient,
  dataset: Dataset,
  fraction: number,
): Promise<{ source: string; rows: number }> {
  const names = dataset.columns.map((column) => quoteIdent(column.name)).join(', ');
  // Row-level (BERNOULLI) rather than page-level sampling: rows that arrived together share pages,
  // and a page sample of them would make repeated values look rarer or commoner than they are.
  const percent = (fraction * 100).toFixed(6);
  const created = await db.query(
    `CREATE TEMP TABLE profile_sample ON COMMIT DROP AS
     SELECT ${names} FROM ${qualifiedTable(dataset)} TABLESAMPLE BERNOULLI (${percent})`,
  );
  return { source: 'pg_temp.profile_sample', rows: created.rowCount ?? 0 };
}

function valueText({ name, type }: IndexedColumn): string {
  const c = `s.${quoteIdent(name)}`;
  // Adding zero turns -0 into 0, which equals it but would print differently.
  return type === 'float' ? `(${c} + 0)::text` : `${c}::text`;
}

/** For every column at once: how many distinct values, how many seen once, and the most frequent. */
export async function frequencies(
  db: PoolClient,
  source: string,
  columns: IndexedColumn[],
  withTop: ReadonlySet<number>,
  top: number,
): Promise<Map<number, ColumnFrequencies>> {
  const found = new Map<number, ColumnFrequencies>();
  if (columns.length === 0) return found;
  const unpivot = columns.map((column) => `(${column.index}, ${valueText(column)})`).join(', ');
  const result = await db.query<{
    c: number;
    seen: string;
    kinds: string;
    singles: string;
    top: [string, number][] | null;
  }>(
    `WITH freq AS (
       SELECT u.c, u.v, count(*) AS n
       FROM ${source} AS s CROSS JOIN LATERAL (VALUES ${unpivot}) AS u(c, v)
       WHERE u.v IS NOT NULL GROUP BY u.c, u.v
     ), ranked AS (
       SELECT c, v, n, row_number() OVER (PARTITION BY c ORDER BY n DESC, v COLLATE "C") AS r FROM freq
     )
     SELECT c, sum(n) AS seen, count(*) AS kinds, count(*) FILTER (WHERE n = 1) AS singles,
       json_agg(json_build_array(v, n) ORDER BY r) FILTER (WHERE r <= $2 AND c = ANY($1::int[])) AS top
     FROM ranked GROUP BY c`,
    [[...withTop], top],
  );
  for (const row of result.rows) {
    found.set(row.c, {
      values: Number(row.seen),
      distinct: Number(row.kinds),
      singles: Number(row.singles),
      top: row.top ?? [],
    });
  }
  return found;
}

/** p25, p50 and p75 of every numeric column, interpolated. */
export async function quantiles(
  db: PoolClient,
  source: string,
  columns: IndexedColumn[],
): Promise<Map<number, (number | null)[]>> {
  const found = new Map<number, (number | null)[]>();
  for (const chunk of chunks(columns, COLUMNS_PER_SCAN * 5)) {
    const select = chunk.map(
      ({ index, name }) =>
        `percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY s.${quoteIdent(name)}::float8) AS q${index}`,
    );
    const result = await db.query<Record<string, (number | null)[] | null>>(
      `SELECT ${select.join(', ')} FROM ${source} AS s`,
    );
    const row = result.rows[0] ?? {};
    for (const { index } of chunk) found.set(index, row[`q${index}`] ?? [null, null, null]);
  }
  return found;
}

export interface BinnedColumn extends IndexedColumn {
  low: number;
  high: number;
}

/** Counts in HISTOGRAM_BINS equal-width bins from low to high, for every column at once. */
export async function histograms(
  db: PoolClient,
  source: string,
  columns: BinnedColumn[],
): Promise<Map<number, number[]>> {
  const found = new Map<number, number[]>();
  if (columns.length === 0) return found;
  const values: number[] = [];
  const unpivot = columns.map((column) => {
    const c = `s.${quoteIdent(column.name)}`;
    const x = TIME_TYPES.has(column.type) ? `extract(epoch FROM ${c})::float8` : `${c}::float8`;
    values.push(column.low, column.high);
    return `(${column.index}, ${x}, $${values.length - 1}::float8, $${values.length}::float8)`;
  });
  // width_bucket puts the maximum in bin count+1; it belongs in the last bin. Grouped by position:
  // a bare name in GROUP BY would mean a dataset column of that name.
  const result = await db.query<{ c: number; b: number; n: string }>(
    `SELECT u.c, least(width_bucket(u.x, u.lo, u.hi, ${HISTOGRAM_BINS}), ${HISTOGRAM_BINS}) AS b, count(*) AS n
     FROM ${source} AS s CROSS JOIN LATERAL (VALUES ${unpivot.join(', ')}) AS u(c, x, lo, hi)
     WHERE u.x IS NOT NULL GROUP BY 1, 2`,
    values,
  );
  for (const column of columns) found.set(column.index, new Array<number>(HISTOGRAM_BINS).fill(0));
  for (const row of result.rows) {
    const bins = found.get(row.c);
    if (bins) bins[row.b - 1] = Number(row.n);
  }
  return found;
}
