import type { FileHandle } from 'node:fs/promises';
import {
  parquetMetadataAsync,
  parquetRead,
  parquetSchema,
  type AsyncBuffer,
  type FileMetaData,
  type SchemaTree,
} from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { ColumnType } from '../datasets/datasets.types.ts';
import { IngestError, lineError, tooManyColumns } from './errors.ts';
import { budgetedCompressors, declaredRowGroupBytes, rowGroupTooLarge } from './parquet-budget.ts';
import { readAt, tempFileOf } from './temp-file.ts';
import type { IngestOptions, Source, SourceRow } from './types.ts';

/** Rows handed on at a time from a decoded row group. */
const BATCH_ROWS = 1000;

const LOGICAL: Record<string, ColumnType> = {
  STRING: 'text',
  ENUM: 'text',
  UUID: 'text',
  TIME: 'text',
  JSON: 'json',
  GEOMETRY: 'json',
  GEOGRAPHY: 'json',
  VARIANT: 'json',
  DATE: 'date',
  TIMESTAMP: 'timestamp',
  DECIMAL: 'float',
  FLOAT16: 'float',
  INTEGER: 'integer',
};
const CONVERTED: Record<string, ColumnType> = {
  UTF8: 'text',
  ENUM: 'text',
  TIME_MILLIS: 'text',
  TIME_MICROS: 'text',
  JSON: 'json',
  DATE: 'date',
  TIMESTAMP_MILLIS: 'timestamp',
  TIMESTAMP_MICROS: 'timestamp',
  DECIMAL: 'float',
  INT_8: 'integer',
  INT_16: 'integer',
  INT_32: 'integer',
  INT_64: 'integer',
  UINT_8: 'integer',
  UINT_16: 'integer',
  UINT_32: 'integer',
  UINT_64: 'integer',
};
const PHYSICAL: Record<string, ColumnType> = {
  BOOLEAN: 'boolean',
  INT32: 'integer',
  INT64: 'integer',
  INT96: 'timestamp',
  FLOAT: 'float',
  DOUBLE: 'float',
};

/** The file's declared type, mapped to ours; nested columns (lists, maps, structs) are JSON. */
function columnType(node: SchemaTree): ColumnType {
  if (node.children.length > 0) return 'json';
  const { type, converted_type: converted, logical_type: logical } = node.element;
  return (
    (logical && LOGICAL[logical.type]) ??
    (converted && CONVERTED[converted]) ??
    (type && PHYSICAL[type]) ??
    'text'
  );
}

/** Microseconds since the epoch as ISO 8601 in UTC, keeping the microseconds a Date would drop. */
function isoFromMicros(micros: bigint): string {
  let millis = micros / 1000n;
  let rest = micros % 1000n;
  if (rest < 0n) {
    millis -= 1n;
    rest += 1000n;
  }
  const date = new Date(Number(millis));
  // Out of a Date's range: left as the number, which the timestamp check then refuses with its row.
  if (Number.isNaN(date.getTime())) return micros.toString();
  const iso = date.toISOString();
  return rest === 0n ? iso : `${iso.slice(0, -1)}${rest.toString().padStart(3, '0')}Z`;
}

const PARSERS = {
  timestampFromMilliseconds: (millis: bigint) => isoFromMicros(millis * 1000n),
  timestampFromMicroseconds: (micros: bigint) => isoFromMicros(micros),
  timestampFromNanoseconds: (nanos: bigint) => isoFromMicros(nanos / 1000n),
  dateFromDays: (days: number) => {
    const date = new Date(days * 86_400_000);
    return Number.isNaN(date.getTime()) ? String(days) : date.toISOString().slice(0, 10);
  },
};

/** hyparquet reads by byte range: this serves the ranges from the temporary file. */
function fileBuffer(handle: FileHandle, byteLength: number): AsyncBuffer {
  return {
    byteLength,
    async slice(start, end = byteLength) {
      const bytes = await readAt(handle, start, Math.max(0, Math.min(end, byteLength) - start));
      // Buffer.alloc gives each read an ArrayBuffer of its own, starting at 0.
      const buffer = bytes.buffer as ArrayBuffer;
      return bytes.length === buffer.byteLength ? buffer : buffer.slice(0, bytes.length);
    },
  };
}

/**
 * One row group decoded at a time, each within DATA_MAX_ROW_GROUP_BYTES: first as its metadata
 * declares, then page by page as each is unpacked. Memory follows the file's row group size (which
 * the writer chose), not its total size.
 */
async function* rowGroups(
  file: AsyncBuffer,
  metadata: FileMetaData,
  names: string[],
  maxBytes: number,
): AsyncGenerator<SourceRow[]> {
  let rowStart = 0;
  for (const [index, group] of metadata.row_groups.entries()) {
    const rowEnd = rowStart + Number(group.num_rows);
    const refuse = () => rowGroupTooLarge({ index, firstRow: rowStart + 1 }, maxBytes);
    if (declaredRowGroupBytes(group) > maxBytes) throw refuse();
    let rows: unknown[][] = [];
    try {
      await parquetRead({
        file,
        metadata,
        columns: names,
        rowStart,
        rowEnd,
        compressors: budgetedCompressors(compressors, { left: maxBytes }, refuse),
        parsers: PARSERS,
        onComplete: (data: unknown[][]) => {
          rows = data;
        },
      });
    } catch (error) {
      if (error instanceof IngestError) throw error;
      throw lineError(
        'unsupported',
        rowStart + 1,
        `this part of the Parquet file cannot be read: ${(error as Error).message}`,
      );
    }
    for (let i = 0; i < rows.length; i += BATCH_ROWS) {
      yield rows.slice(i, i + BATCH_ROWS).map((values, j) => ({ line: rowStart + i + j + 1, values }));
    }
    rowStart = rowEnd;
  }
}

/**
 * A Parquet file. Its footer is at the end, so the upload is first streamed to a temporary file
 * (deleted by `close`, also when opening fails) and then read by byte ranges.
 */
export async function openParquet(chunks: AsyncIterable<Buffer>, options: IngestOptions): Promise<Source> {
  const temp = await tempFileOf(chunks, 'upload.parquet');
  try {
    const file = fileBuffer(temp.handle, temp.size);
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(file);
    } catch (error) {
      throw new IngestError(
        'unsupported',
        `This is not a readable Parquet file: ${(error as Error).message}`,
      );
    }
    const columns = parquetSchema(metadata).children;
    if (columns.length > options.limits.maxColumns) throw tooManyColumns(columns.length, options.limits, 1);
    const names = columns.map((column) => column.element.name);
    return {
      format: 'parquet',
      names,
      declared: columns.map(columnType),
      textual: false,
      batches: rowGroups(file, metadata, names, options.limits.maxRowGroupBytes),
      close: () => temp.close(),
    };
  } catch (error) {
    await temp.close();
    throw error;
  }
}
