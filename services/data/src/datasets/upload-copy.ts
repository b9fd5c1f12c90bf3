import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { AppError, type PoolClient } from '@datalab/platform';
import { IngestError, ingest, type IngestOptions, type IngestResult } from '../ingest/index.ts';
import { copyInto, rowIdsInBlocks, rowIdsOneByOne } from './dataset-tables.ts';
import type { DatasetColumn } from './datasets.types.ts';

/** Turns the ingest pipeline's refusal into the problem a caller reads: the rows, lines and columns at fault. */
export function toAppError(error: IngestError): AppError {
  const kind = error.kind === 'too_large' ? 'too_large' : 'invalid';
  const errors = error.errors.map((row) => ({
    field: row.column ? `line ${row.line}, column ${row.column}` : `line ${row.line}`,
    message: row.message,
  }));
  return new AppError(kind, error.message, { errors, extensions: { rows: error.errors } });
}

/**
 * Streams `file` through the ingest pipeline into a COPY on `client`.
 * `prepare` runs once the columns are known (create or check the table) and
 * names the table to copy into. A failure cancels the COPY, so the caller's
 * transaction can roll back.
 */
export async function copyUpload(
  client: PoolClient,
  file: Readable,
  options: IngestOptions,
  prepare: (columns: DatasetColumn[]) => Promise<string>,
): Promise<{ result: IngestResult; columns: DatasetColumn[] }> {
  let copy: Writable | undefined;
  let table: string | undefined;
  let columns: DatasetColumn[] = [];
  try {
    const result = await ingest(file, options, async (found, format) => {
      columns = found;
      table = await prepare(found);
      // The CSV fast path hands PostgreSQL timestamps as the file wrote them: one without an offset is UTC.
      if (format.format === 'csv') await client.query("SET LOCAL TimeZone = 'UTC'");
      await rowIdsInBlocks(client, table);
      copy = copyInto(client, table, found, format);
      return copy;
    });
    if (copy && !copy.writableEnded) copy.end();
    if (copy) await finished(copy);
    if (table) await rowIdsOneByOne(client, table, result.rowsWritten > 0);
    return { result, columns };
  } catch (error) {
    if (copy && !copy.destroyed) {
      copy.destroy(error instanceof Error ? error : new Error(String(error)));
      await finished(copy).catch(() => undefined);
    }
    // Drain what is left of the upload; a late error from it must not go unheard (that would crash the process).
    file.on('error', () => undefined);
    file.resume();
    if (error instanceof IngestError) throw toAppError(error);
    throw error;
  }
}
