import { tableFromIPC } from 'apache-arrow';
import { parse as parseCsv } from 'csv-parse/sync';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { expect } from 'vitest';

/**
 * Query answers and exports read back as a client library would read them, then written in one
 * plain form (integers as numbers, dates `YYYY-MM-DD`, timestamps as epoch milliseconds, JSON parsed),
 * so the same expected rows check every format however an engine encodes them physically.
 */

export type Format = 'json' | 'csv' | 'arrow' | 'parquet';

export const CONTENT_TYPES: Record<Format, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  arrow: 'application/vnd.apache.arrow.stream',
  parquet: 'application/vnd.apache.parquet',
};

/** Column names and rows, as read from the answer's bytes. */
export interface Read {
  columns: string[];
  rows: unknown[][];
}

function ms(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  return typeof value === 'string' ? Date.parse(value) : Number.NaN;
}

/** One value in its plain form for a column of `type` (a DataLab column type). */
export function plain(type: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'integer':
    case 'float':
      return Number(value);
    case 'date': {
      const time = ms(value);
      return time === null ? null : new Date(time).toISOString().slice(0, 10);
    }
    case 'timestamp':
      return ms(value);
    case 'boolean':
      return typeof value === 'string' ? ['true', 't'].includes(value) : value;
    case 'json':
      return typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
    default:
      return value;
  }
}

/** Rows in plain form, column `i` read as `types[i]`. */
export function plainRows(types: readonly string[], rows: unknown[][]): unknown[][] {
  return rows.map((row) => row.map((value, i) => plain(types[i] ?? 'text', value)));
}

/** An answer's bytes, read as its format says; the content type must be the format's. */
export async function readAnswer(response: Response, format: Format): Promise<Read> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  expect({ status: response.status, type: response.headers.get('content-type') }).toEqual({
    status: 200,
    type: CONTENT_TYPES[format],
  });
  switch (format) {
    case 'json': {
      const body = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
        columns: { name: string }[];
        rows: unknown[][];
      };
      return { columns: body.columns.map((c) => c.name), rows: body.rows };
    }
    case 'csv': {
      const [header = [], ...rows] = parseCsv(Buffer.from(bytes).toString('utf8'));
      // CSV has no null: an empty field is the nearest a CSV reader gets.
      return { columns: header, rows: rows.map((row) => row.map((v) => (v === '' ? null : v))) };
    }
    case 'arrow': {
      const table = tableFromIPC(bytes);
      const columns = table.schema.fields.map((field) => field.name);
      const records = table.toArray() as Record<string, unknown>[];
      const rows = records.map((row) => columns.map((name) => row[name]));
      return { columns, rows };
    }
    case 'parquet': {
      const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      const columns = parquetMetadata(file)
        .schema.slice(1)
        .map((element) => element.name);
      const objects: Record<string, unknown>[] = await parquetReadObjects({ file });
      return { columns, rows: objects.map((object) => columns.map((name) => object[name])) };
    }
  }
}
