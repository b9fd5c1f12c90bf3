import { PermanentJobError, type Pool, type PoolClient } from '@datalab/platform';
import {
  HISTOGRAM_BINS,
  NUMBER_TYPES,
  TIME_TYPES,
  histograms,
  type BinnedColumn,
  type IndexedColumn,
} from '../browse/profile-stats.repository.ts';
import type { ProfileBody } from '../browse/profile.repository.ts';
import { valueTypes } from '../browse/row-values.ts';
import {
  ROW_ID_COLUMN,
  qualifiedTable,
  quoteIdent,
  type ColumnType,
  type Dataset,
} from '../datasets/datasets.types.ts';

/**
 * The SQL of a partitioned profile. Every statistic is one that merges
 * exactly: sums of counts, the least and greatest value, (n, mean, M2) for
 * mean and deviation, histogram bins over fixed global bounds, and distinct
 * values split by a hash of the value (each value falls in exactly one
 * partition, so distinct counts, values seen once and top values add up).
 */

const ORDERED: ReadonlySet<ColumnType> = new Set([...NUMBER_TYPES, ...TIME_TYPES, 'text']);
const COLUMNS_PER_SCAN = 200;

export interface RowRange {
  from: number;
  to: number;
}

/** One column's aggregates over one row range. `minKey`/`maxKey` order values exactly across partitions. */
export interface PartialAggregates {
  count: number;
  min: unknown;
  max: unknown;
  minKey: string | number | null;
  maxKey: string | number | null;
  /** Mean and sum of squared deviations of the numbers, for Chan's parallel merge. */
  mean: number | null;
  m2: number | null;
  low: number | null;
  high: number | null;
}

export interface PartialFrequencies {
  values: number;
  distinct: number;
  singles: number;
  top: [string, number][];
}

/** What an ordering key of a min or max is: exact integers as text, text itself, or a float. */
function keyOf(type: ColumnType, c: string, agg: 'min' | 'max'): string {
  if (type === 'integer') return `${agg}(${c})::text`;
  if (type === 'float') return `${agg}(${c})`;
  if (type === 'date') return `(${agg}(${c}) - date '1970-01-01')::text`;
  if (type === 'timestamp') return `(extract(epoch FROM ${agg}(${c})) * 1000000)::numeric(30,0)::text`;
  return `${agg}(${c} COLLATE "C")`;
}

function aggregateItems({ index, name, type }: IndexedColumn): string[] {
  const c = quoteIdent(name);
  const items = [`count(${c}) AS n${index}`];
  if (ORDERED.has(type)) {
    const ordered = type === 'text' ? `${c} COLLATE "C"` : c;
    items.push(`min(${ordered}) AS min${index}`, `max(${ordered}) AS max${index}`);
    items.push(`${keyOf(type, c, 'min')} AS kmin${index}`, `${keyOf(type, c, 'max')} AS kmax${index}`);
  }
  if (NUMBER_TYPES.has(type)) {
    items.push(
      `avg(${c})::float8 AS mean${index}`,
      `(var_pop(${c}) * count(${c}))::float8 AS m2${index}`,
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
const rangeSource = (dataset: Pick<Dataset, 'tableName'>, range: RowRange): string =>
  `(SELECT * FROM ${qualifiedTable(dataset)} WHERE ${quoteIdent(ROW_ID_COLUMN)} BETWEEN ${Math.trunc(range.from)} AND ${Math.trunc(range.to)})`;

export function createPartitionRepository(pool: Pool) {
  return {
    /**
     * Runs `work` in one read-only snapshot after checking that the dataset is
     * still at the version the profile started from: partitions of one
     * profile must describe the same rows.
     */
    async atVersion<T>(
      datasetId: string,
      version: number,
      work: (db: PoolClient, dataset: Pick<Dataset, 'tableName'>) => Promise<T>,
    ): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
        const found = await client.query<{ version: number; table_name: string }>(
          'SELECT version, table_name FROM data.datasets WHERE id = $1',
          [datasetId],
        );
        const row = found.rows[0];
        if (!row) throw new PermanentJobError('The dataset was deleted while it was being profiled');
        if (row.version !== version)
          throw new PermanentJobError(
            `The dataset changed (version ${version} → ${row.version}) while it was being profiled; profile it again`,
          );
        return await work(client, { tableName: row.table_name });
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
        client.release();
      }
    },

    async rowIdRange(db: PoolClient, dataset: Pick<Dataset, 'tableName'>): Promise<RowRange | undefined> {
      const id = quoteIdent(ROW_ID_COLUMN);
      const result = await db.query<{ lo: string | null; hi: string | null }>(
        `SELECT min(${id}) AS lo, max(${id}) AS hi FROM ${qualifiedTable(dataset)}`,
      );
      const { lo, hi } = result.rows[0] ?? { lo: null, hi: null };
      return lo === null || hi === null ? undefined : { from: Number(lo), to: Number(hi) };
    },

    async aggregates(
      db: PoolClient,
      dataset: Pick<Dataset, 'tableName'>,
      range: RowRange,
      columns: IndexedColumn[],
    ): Promise<{ rows: number; columns: Record<number, PartialAggregates> }> {
      let rows = 0;
      const found: Record<number, PartialAggregates> = {};
      const source = rangeSource(dataset, range);
      for (let i = 0; i < Math.max(columns.length, 1); i += COLUMNS_PER_SCAN) {
        const chunk = columns.slice(i, i + COLUMNS_PER_SCAN);
        const select = ['count(*) AS rows', ...chunk.flatMap(aggregateItems)].join(', ');
        const result = await db.query<Record<string, unknown>>({
          text: `SELECT ${select} FROM ${source} AS s`,
          types: valueTypes,
        });
        const row = result.rows[0] ?? {};
        rows = Number(row.rows);
        for (const { index } of chunk) {
          found[index] = {
            count: Number(row[`n${index}`]),
            min: row[`min${index}`] ?? null,
            max: row[`max${index}`] ?? null,
            minKey: (row[`kmin${index}`] as string | number | undefined) ?? null,
            maxKey: (row[`kmax${index}`] as string | number | undefined) ?? null,
            mean: numberOrNull(row[`mean${index}`]),
            m2: numberOrNull(row[`m2${index}`]),
            low: numberOrNull(row[`lo${index}`]),
            high: numberOrNull(row[`hi${index}`]),
          };
        }
      }
      return { rows, columns: found };
    },

    /** Histogram bins of the range, over the global bounds. */
    async bins(
      db: PoolClient,
      dataset: Pick<Dataset, 'tableName'>,
      range: RowRange,
      columns: BinnedColumn[],
    ): Promise<Record<number, number[]>> {
      const found = await histograms(db, rangeSource(dataset, range), columns);
      return Object.fromEntries(found);
    },

    /** Distinct values, values seen once and the top values, of the values whose hash falls in this bucket. */
    async frequencies(
      db: PoolClient,
      dataset: Pick<Dataset, 'tableName'>,
      bucket: { index: number; of: number },
      columns: IndexedColumn[],
      withTop: readonly number[],
      top: number,
    ): Promise<Record<number, PartialFrequencies>> {
      const found: Record<number, PartialFrequencies> = {};
      if (columns.length === 0) return found;
      const unpivot = columns
        .map(({ index, name, type }) => {
          const c = `s.${quoteIdent(name)}`;
          // As the single-pass profile groups values: floats + 0 (so -0 is 0), everything as text.
          return `(${index}, ${type === 'float' ? `(${c} + 0)::text` : `${c}::text`})`;
        })
        .join(', ');
      const result = await db.query<{
        c: number;
        seen: string;
        kinds: string;
        singles: string;
        top: [string, number][] | null;
      }>(
        `WITH freq AS (
           SELECT u.c, u.v, count(*) AS n
           FROM ${qualifiedTable(dataset)} AS s CROSS JOIN LATERAL (VALUES ${unpivot}) AS u(c, v)
           WHERE u.v IS NOT NULL AND mod(abs(hashtext(u.v)::bigint), $3) = $4 GROUP BY u.c, u.v
         ), ranked AS (
           SELECT c, v, n, row_number() OVER (PARTITION BY c ORDER BY n DESC, v COLLATE "C") AS r FROM freq
         )
         SELECT c, sum(n) AS seen, count(*) AS kinds, count(*) FILTER (WHERE n = 1) AS singles,
           json_agg(json_build_array(v, n) ORDER BY r) FILTER (WHERE r <= $2 AND c = ANY($1::int[])) AS top
         FROM ranked GROUP BY c`,
        [[...withTop], top, bucket.of, bucket.index],
      );
      for (const row of result.rows) {
        found[row.c] = {
          values: Number(row.seen),
          distinct: Number(row.kinds),
          singles: Number(row.singles),
          top: row.top ?? [],
        };
      }
      return found;
    },

    /** Stores the profile as its dataset version's, unless the dataset moved on meanwhile; older versions' go. */
    async storeProfile(profile: ProfileBody): Promise<boolean> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const stored = await client.query(
          `INSERT INTO data.profiles (dataset_id, version, profile)
           SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM data.datasets WHERE id = $1 AND version = $2)
           ON CONFLICT (dataset_id, version) DO UPDATE SET profile = EXCLUDED.profile, computed_at = now()`,
          [profile.dataset_id, profile.version, JSON.stringify(profile)],
        );
        await client.query('DELETE FROM data.profiles WHERE dataset_id = $1 AND version < $2', [
          profile.dataset_id,
          profile.version,
        ]);
        await client.query('COMMIT');
        return (stored.rowCount ?? 0) > 0;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },

    /**
     * The values at given 0-based ranks of a numeric column (as float8, in
     * order), found inside the histogram bins the merge located them in: one
     * scan, sorting only those bins.
     */
    async valuesAtRanks(
      db: PoolClient,
      dataset: Pick<Dataset, 'tableName'>,
      column: BinnedColumn,
      wanted: { bin: number; offset: number }[],
    ): Promise<Map<string, number>> {
      const c = `${quoteIdent(column.name)}::float8`;
      const bucket = `least(width_bucket(${c}, $1::float8, $2::float8, ${HISTOGRAM_BINS}), ${HISTOGRAM_BINS})`;
      const result = await db.query<{ b: number; r: string; x: number }>(
        `SELECT b, r, x FROM (
           SELECT b, x, row_number() OVER (PARTITION BY b ORDER BY x) - 1 AS r
           FROM (SELECT ${bucket} AS b, ${c} AS x FROM ${qualifiedTable(dataset)} WHERE ${c} IS NOT NULL) AS s
           WHERE b = ANY($3::int[])
         ) AS ranked WHERE (b, r) IN (SELECT * FROM unnest($3::int[], $4::bigint[]))`,
        [column.low, column.high, wanted.map((w) => w.bin), wanted.map((w) => w.offset)],
      );
      return new Map(result.rows.map((row) => [`${row.b}:${row.r}`, row.x]));
    },
  };
}

export type PartitionRepository = ReturnType<typeof createPartitionRepository>;
