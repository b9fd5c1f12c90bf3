import { AppError } from '@datalab/platform';
import type { Dataset } from '../datasets/datasets.types.ts';
import { readAll } from '../engine/run-statement.ts';
import type { ResultValue } from '../query/result-values.ts';
import type { DatasetFiles, OpenedSources } from '../versions/dataset-files.ts';
import type { ColumnProfile } from './browse.schemas.ts';
import { datasetChanged } from './dataset-changed.ts';
import { bins, finiteOrNull } from './profile-stats.ts';
import {
  HISTOGRAM_BINS,
  NUMBER_TYPES,
  TIME_TYPES,
  TOP_TYPES,
  aggregatesSql,
  frequenciesSql,
  type BinnedColumn,
  type IndexedColumn,
} from './profile.sql.ts';
import type { ProfileBody } from './profile.repository.ts';

/** Columns per statement: each statement scans only its columns, so wide datasets cost no extra scans of data. */
const COLUMNS_PER_STATEMENT = 100;

type Row = Readonly<Record<string, ResultValue>>;
type ProfiledColumn = IndexedColumn & { original_name: string };

export interface ProfileLimits {
  /** Longest each statement may run; past it the profile fails naming `timeoutSetting`. */
  timeoutMs: number;
  timeoutSetting: string;
  /** Aborting it stops the statement running (a cancelled job). */
  signal?: AbortSignal;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const finite = (value: ResultValue | undefined): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/** Columns whose values span a range to cut into bins. */
function binnable(columns: readonly IndexedColumn[], aggregates: Row): BinnedColumn[] {
  return columns.flatMap((column) => {
    if (!NUMBER_TYPES.has(column.type) && !TIME_TYPES.has(column.type)) return [];
    const low = finite(aggregates[`lo${column.index}`]);
    const high = finite(aggregates[`hi${column.index}`]);
    return low !== undefined && high !== undefined && low < high ? [{ ...column, low, high }] : [];
  });
}

function histogramOf(column: IndexedColumn, count: number, aggregates: Row, frequencies: Row) {
  if (!NUMBER_TYPES.has(column.type) && !TIME_TYPES.has(column.type)) return null;
  if (count === 0) return [];
  const low = finite(aggregates[`lo${column.index}`]);
  const high = finite(aggregates[`hi${column.index}`]);
  // NaN or an infinity among the values: no equal-width bins hold them.
  if (low === undefined || high === undefined) return null;
  const time = TIME_TYPES.has(column.type);
  // One value throughout: one bin holding it, however wide bins would have been.
  if (low === high) return bins(low, high, [count], time);
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const entry of (frequencies[`bins${column.index}`] ?? []) as { bin: number; count: number }[]) {
    counts[entry.bin] = entry.count;
  }
  return bins(low, high, counts, time);
}

function columnProfile(
  column: ProfiledColumn,
  rows: number,
  aggregates: Row,
  frequencies: Row,
): ColumnProfile {
  const { index, type } = column;
  const count = Number(aggregates[`n${index}`]);
  const isNumber = NUMBER_TYPES.has(type);
  const top = TOP_TYPES.has(type);
  const [p25 = null, p50 = null, p75 = null] = ((aggregates[`q${index}`] ?? []) as ResultValue[]).map(
    finiteOrNull,
  );
  return {
    name: column.name,
    original_name: column.original_name,
    type,
    count,
    nulls: rows - count,
    distinct: Number((top ? frequencies : aggregates)[`d${index}`] ?? 0),
    distinct_approximate: false,
    min: aggregates[`min${index}`] ?? null,
    max: aggregates[`max${index}`] ?? null,
    mean: isNumber ? finiteOrNull(aggregates[`mean${index}`]) : null,
    stddev: isNumber ? finiteOrNull(aggregates[`sd${index}`]) : null,
    quantiles: isNumber ? { p25, p50, p75 } : null,
    top_values: top ? ((frequencies[`top${index}`] ?? []) as { value: unknown; count: number }[]) : null,
    histogram: histogramOf(column, count, aggregates, frequencies),
  };
}

/**
 * The exact profile of a dataset's current version over all its rows, computed
 * by DuckDB from the version's files in two scans per group of columns
 * (profile.sql.ts).
 */
export async function computeProfile(
  files: DatasetFiles,
  dataset: Dataset,
  limits: ProfileLimits,
): Promise<ProfileBody> {
  let opened: OpenedSources | undefined;
  try {
    opened = await files.open([dataset]);
    const { sources } = opened;
    const one = async (sql: string): Promise<Row> => {
      const result = await files.engine.run({
        sql,
        datasets: sources,
        limits: { maxRows: 1, timeoutMs: limits.timeoutMs, signal: limits.signal },
      });
      const { columns, rows } = await readAll(result);
      return Object.fromEntries(columns.map((column, i) => [column.name, rows[0]?.[i] ?? null]));
    };
    let rows = 0;
    const profiles: ColumnProfile[] = [];
    const indexed = dataset.columns.map((column, index) => ({ ...column, index }));
    for (const columns of chunks(indexed, COLUMNS_PER_STATEMENT)) {
      const aggregates = await one(aggregatesSql(dataset.name, columns));
      rows = Number(aggregates.row_count);
      const frequencies = frequenciesSql(
        dataset.name,
        columns.filter((column) => TOP_TYPES.has(column.type)),
        binnable(columns, aggregates),
      );
      const found = frequencies ? await one(frequencies) : {};
      profiles.push(...columns.map((column) => columnProfile(column, rows, aggregates, found)));
    }
    return {
      dataset_id: dataset.id,
      version: dataset.version,
      row_count: rows,
      sampled: false,
      sample_rows: null,
      columns: profiles,
    };
  } catch (error) {
    if (error instanceof AppError && error.extensions?.limit === 'timeout') {
      throw new AppError(
        'too_large',
        `Profiling this dataset took longer than ${limits.timeoutSetting} allows; run a \`profile\` job instead`,
        { cause: error, extensions: { limit: limits.timeoutSetting, timeout_ms: limits.timeoutMs } },
      );
    }
    throw await datasetChanged(error, opened);
  } finally {
    opened?.release();
  }
}
