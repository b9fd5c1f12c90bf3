import type { Pool, Principal } from '@datalab/platform';
import type { Catalog } from '../datasets/datasets.catalog.ts';
import { ROW_ID_COLUMN, qualifiedTable, quoteIdent } from '../datasets/datasets.types.ts';
import { streamAnswer, type QueryAnswer } from './answers.ts';
import { openCursor, type RowCursor } from './executor.ts';
import { FILE_EXTENSIONS } from './formats.ts';
import { translateQueryError } from './query-errors.ts';
import type { QueryFormat } from './query.schemas.ts';

export interface ExportDeps {
  readPool: Pool;
  catalog: Catalog;
  timeoutMs: number;
}

const BATCH_ROWS = 5000;

/**
 * A whole dataset in arrival order, streamed from a cursor through the same
 * writers as query answers: no row cap, nothing held beyond one batch (one
 * row group for Parquet), and the same read-only reader transaction.
 */
export function createDatasetExport(deps: ExportDeps) {
  return {
    exportDataset: async (
      principal: Principal,
      idOrName: string,
      format: QueryFormat,
    ): Promise<QueryAnswer> => {
      const dataset = await deps.catalog.readable(principal, idOrName);
      const columns = dataset.columns.map((column) => quoteIdent(column.name)).join(', ');
      const text = `SELECT ${columns} FROM ${qualifiedTable(dataset)} ORDER BY ${quoteIdent(ROW_ID_COLUMN)}`;
      let cursor: RowCursor;
      try {
        cursor = await openCursor(
          deps.readPool,
          { text, values: [] },
          { timeoutMs: deps.timeoutMs, batchSize: BATCH_ROWS },
        );
      } catch (error) {
        throw translateQueryError(error, deps.timeoutMs);
      }
      return {
        ...streamAnswer(cursor, format, { keepBytes: 0 }),
        filename: `${dataset.name}.${FILE_EXTENSIONS[format]}`,
      };
    },
  };
}
