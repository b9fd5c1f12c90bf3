import { finished } from 'node:stream/promises';
import type { PoolClient } from '@datalab/platform';
import { copyInto, createDatasetTable } from '../datasets/dataset-tables.ts';
import type { ColumnType, DatasetColumn } from '../datasets/datasets.types.ts';
import { copyWriter } from '../ingest/copy-writer.ts';
import { escapeCopy } from '../ingest/encode.ts';
import { safeNames } from '../ingest/names.ts';
import type { RowCursor } from '../query/executor.ts';
import { translateQueryError, type SessionSettings } from '../query/query-errors.ts';
import type { ResultValue } from '../query/result-values.ts';
import type { Filled } from './job-output.ts';

/** One value of a query row as a COPY text field of its column's type. */
function field(value: ResultValue, type: ColumnType): string {
  if (value === null) return '\\N';
  if (type === 'json' || typeof value === 'object') return escapeCopy(JSON.stringify(value));
  if (typeof value === 'boolean') return value ? 't' : 'f';
  // Numbers print as PostgreSQL reads them, NaN and the infinities included.
  return typeof value === 'number' ? String(value) : escapeCopy(value);
}

export interface CopyProgress {
  signal: AbortSignal;
  /** Called after each batch with the rows written so far. */
  onRows: (rows: number) => Promise<void>;
}

/**
 * The query's columns become the dataset's (names made safe and unique, as an
 * upload's are; types as the query answer reports them), and its rows are
 * streamed from the reader cursor into a COPY on `client`, batch by batch.
 */
export async function copyCursor(
  client: PoolClient,
  tableName: string,
  cursor: RowCursor,
  progress: CopyProgress,
  session: SessionSettings,
): Promise<Filled> {
  const names = safeNames(cursor.columns.map((column) => column.name));
  const columns: DatasetColumn[] = cursor.columns.map((column, i) => ({
    name: names[i]!,
    original_name: column.name,
    type: column.type,
  }));
  const types = columns.map((column) => column.type);
  await createDatasetTable(client, tableName, columns);
  const copy = copyInto(client, tableName, columns);
  const writer = copyWriter(copy, () => undefined);
  let rows = 0;
  try {
    for await (const batch of cursor.batches()) {
      progress.signal.throwIfAborted();
      for (const row of batch) {
        const waiting = writer.push(`${row.map((value, i) => field(value, types[i]!)).join('\t')}\n`);
        if (waiting) await waiting;
      }
      rows += batch.length;
      await progress.onRows(rows);
    }
    await writer.end();
  } catch (error) {
    if (!copy.destroyed) {
      copy.destroy(error instanceof Error ? error : new Error(String(error)));
      await finished(copy).catch(() => undefined);
    }
    throw progress.signal.aborted ? error : translateQueryError(error, session);
  } finally {
    writer.detach();
    await cursor.close();
  }
  return { columns, rowsWritten: rows, sourceFormat: 'query' };
}
