import { AppError } from '@datalab/platform';
import type { Dataset } from '../datasets/datasets.types.ts';
import { rowsRelation } from '../engine/instance-pool.ts';
import { readAll } from '../engine/run-statement.ts';
import { pageTooLarge } from '../query/limits.ts';
import type { ResultValue } from '../query/result-values.ts';
import type { DatasetFiles, OpenedSources } from '../versions/dataset-files.ts';
import { datasetChanged } from './dataset-changed.ts';
import type { RowCursor, RowsPlan } from './rows.params.ts';
import { pageSql } from './rows.sql.ts';

export interface RowsResult {
  rows: unknown[][];
  /** Where this page ended, when more rows follow. */
  next: RowCursor | undefined;
}

export interface RowsLimits {
  /** The most a page may have, counted in DuckDB's vectors (QUERY_MAX_ANSWER_BYTES). */
  maxBytes: number;
  timeoutMs: number;
}

/** The engine's answer to `pageSql`, back in the row shape the API has always had. */
function apiRows(dataset: Dataset, answer: ResultValue[][]): unknown[][] {
  const floats = dataset.columns.flatMap((column, index) => (column.type === 'float' ? [index] : []));
  const width = dataset.columns.length;
  return answer.map((values) => {
    const row: unknown[] = values.slice(0, width);
    // The engine answers NaN and infinities as null; the rows API has always answered them as text.
    floats.forEach((index, k) => {
      const special = values[width + k];
      if (special !== null && special !== undefined) row[index] = special;
    });
    dataset.columns.forEach((column, index) => {
      if (column.type === 'json' && typeof row[index] === 'string') row[index] = JSON.parse(row[index]);
    });
    return row;
  });
}

/** Pages of a dataset's rows, read by DuckDB from its current version's files. */
export function createRowsReader(files: DatasetFiles, limits: RowsLimits) {
  async function run(dataset: Dataset, plan: RowsPlan): Promise<ResultValue[][]> {
    let opened: OpenedSources | undefined;
    try {
      opened = await files.open([dataset]);
      const source = opened.sources[dataset.name]!;
      const result = await files.engine.run({
        sql: pageSql(rowsRelation(source), dataset.columns, plan),
        datasets: opened.sources,
        limits: { maxRows: plan.limit + 1, maxBytes: limits.maxBytes, timeoutMs: limits.timeoutMs },
      });
      return (await readAll(result)).rows;
    } catch (error) {
      if (
        error instanceof AppError &&
        error.kind === 'too_large' &&
        error.extensions?.limit === 'answer_bytes'
      )
        throw pageTooLarge(limits.maxBytes);
      throw await datasetChanged(error, opened);
    } finally {
      opened?.release();
    }
  }

  return {
    async page(dataset: Dataset, plan: RowsPlan): Promise<RowsResult> {
      const answer = await run(dataset, plan);
      const rows = answer.slice(0, plan.limit);
      const last = rows.at(-1);
      const more = answer.length > plan.limit && last !== undefined;
      if (!more) return { rows: apiRows(dataset, rows), next: undefined };
      // The row number is a BIGINT: a number while it is a safe integer, else its decimal text.
      const rowNumber = last.at(-2) as number | string;
      const sortValue = last.at(-1) as string | null;
      return { rows: apiRows(dataset, rows), next: { rowId: String(rowNumber), sortValue } };
    },
  };
}

export type RowsReader = ReturnType<typeof createRowsReader>;
