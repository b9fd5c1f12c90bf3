import type { Pool, Principal } from '@datalab/platform';
import type { Catalog } from '../datasets/datasets.catalog.ts';
import { ROW_ID_COLUMN, qualifiedTable, quoteIdent } from '../datasets/datasets.types.ts';
import { spoolAnswer, spooledAnswer, type QueryAnswer } from './answers.ts';
import { openCursor } from './executor.ts';
import { FILE_EXTENSIONS } from './formats.ts';
import { exportLimits, exportTooLarge } from './limits.ts';
import type { QueryConfig } from './query.config.ts';
import { translateQueryError } from './query-errors.ts';
import type { QueryFormat } from './query.schemas.ts';

export interface ExportDeps {
  pool: Pool;
  /** `pool` is the query login, which may set temp_file_limit. */
  restricted: boolean;
  catalog: Catalog;
  config: QueryConfig;
}

const BATCH_ROWS = 5000;

/**
 * A whole dataset in arrival order, read from a cursor (batches of about 8 MiB) through the same
 * writers as query answers, in the same read-only reader transaction, with no row cap. It is
 * spooled whole (memory, then a temporary file) before the first byte is sent, so a slow download
 * never holds a database connection; QUERY_EXPORT_MAX_BYTES bounds the spool.
 */
export function createDatasetExport(deps: ExportDeps) {
  const { config } = deps;
  const limits = exportLimits(config, deps.restricted);
  return {
    exportDataset: async (
      principal: Principal,
      idOrName: string,
      format: QueryFormat,
    ): Promise<QueryAnswer> => {
      const dataset = await deps.catalog.readable(principal, idOrName);
      const columns = dataset.columns.map((column) => quoteIdent(column.name)).join(', ');
      const text = `SELECT ${columns} FROM ${qualifiedTable(dataset)} ORDER BY ${quoteIdent(ROW_ID_COLUMN)}`;
      try {
        const cursor = await openCursor(
          deps.pool,
          { text, values: [] },
          { timeoutMs: config.queryTimeoutMs, batchSize: BATCH_ROWS, limits },
        );
        const spooled = await spoolAnswer(cursor, format, {
          memoryBytes: config.querySpoolMemoryBytes,
          maxBytes: config.queryExportMaxBytes,
          tooLarge: () => exportTooLarge(config.queryExportMaxBytes),
        });
        return {
          ...spooledAnswer(format, spooled, false),
          filename: `${dataset.name}.${FILE_EXTENSIONS[format]}`,
        };
      } catch (error) {
        throw translateQueryError(error, {
          timeoutMs: config.queryTimeoutMs,
          tempFileBytes: limits.tempFileBytes,
        });
      }
    },
  };
}
