import { PassThrough, Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { expect } from 'vitest';
import type { DatasetColumn } from '../datasets/datasets.types.ts';
import { IngestError } from './errors.ts';
import { ingest } from './ingest.ts';
import type { CopyFormat, IngestLimits, IngestOptions, IngestResult } from './types.ts';
import { copyText } from './values.ts';

/** Helpers for the ingest tests: run a file through the pipeline into memory and read the COPY text back. */

export const LIMITS: IngestLimits = {
  maxColumns: 2000,
  maxCellBytes: 1024 * 1024,
  maxErrorsReported: 20,
  sampleRows: 1000,
  maxRowGroupBytes: 256 * 1024 * 1024,
  maxZipEntries: 1000,
  maxUnzippedBytes: 1024 * 1024 * 1024,
  maxZipRatio: 100,
  maxSharedStringsBytes: 64 * 1024 * 1024,
};

export interface Loaded {
  result: IngestResult;
  /** What `onColumns` received. */
  columns: DatasetColumn[];
  /** The COPY data read back as PostgreSQL would store it: one array per row, null for null. */
  rows: (string | null)[][];
  /** What was written to COPY, and in which format (the CSV fast path sends the file's own records). */
  copyText: string;
  format: CopyFormat;
}

const UNESCAPE: Record<string, string> = { '\\\\': '\\', '\\t': '\t', '\\n': '\n', '\\r': '\r' };

/** Reads COPY text format back the way PostgreSQL does. */
export function parseCopy(text: string): (string | null)[][] {
  if (text === '') return [];
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) =>
      line
        .split('\t')
        .map((field) =>
          field === '\\N' ? null : field.replace(/\\[\\tnr]/g, (escape) => UNESCAPE[escape]!),
        ),
    );
}

/**
 * CSV records read back the way `COPY (FORMAT csv, FORCE_NULL …)` does (an empty field is null),
 * each value then in the one form PostgreSQL would store for its column's type.
 */
export function parseCopyCsv(
  text: string,
  format: Extract<CopyFormat, { format: 'csv' }>,
  columns: readonly DatasetColumn[],
): (string | null)[][] {
  const records: string[][] = parse(text, {
    delimiter: format.delimiter,
    quote: format.quote,
    escape: format.quote,
  });
  return records.map((record) =>
    record.map((value, i) =>
      value === '' ? null : (copyText(columns[i]!.type, value, true) ?? `invalid: ${value}`),
    ),
  );
}

/** What a test may change: any option, and any of the limits alone. */
export type TestOptions = Partial<Omit<IngestOptions, 'limits'>> & { limits?: Partial<IngestLimits> };

export function options(overrides: TestOptions = {}): IngestOptions {
  return { onError: 'fail', ...overrides, limits: { ...LIMITS, ...overrides.limits } };
}

/** The file as a stream, in small chunks so that chunk boundaries fall inside characters, quotes and lines. */
export function fileStream(content: string | Buffer, chunkSize = 7): Readable {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  return Readable.from(chunks, { objectMode: false });
}

export async function load(input: string | Buffer | Readable, overrides: TestOptions = {}): Promise<Loaded> {
  let columns: DatasetColumn[] = [];
  // Set in the callback: a holder, since TypeScript would narrow a plain variable to its first value.
  const sent: { format: CopyFormat } = { format: { format: 'text' } };
  const chunks: Buffer[] = [];
  const result = await ingest(
    input instanceof Readable ? input : fileStream(input),
    options(overrides),
    async (found, copyFormat) => {
      columns = found;
      sent.format = copyFormat;
      const copy = new PassThrough();
      copy.on('data', (chunk: Buffer) => chunks.push(chunk));
      return copy;
    },
  );
  const copyText = Buffer.concat(chunks).toString();
  const { format } = sent;
  const rows = format.format === 'csv' ? parseCopyCsv(copyText, format, columns) : parseCopy(copyText);
  return { result, columns, rows, copyText, format };
}

/** The IngestError a load is refused with; also tells whether `onColumns` was ever called. */
export async function refusal(
  input: string | Buffer | Readable,
  overrides: TestOptions = {},
): Promise<IngestError & { tableCreated: boolean }> {
  let tableCreated = false;
  const error: unknown = await ingest(
    input instanceof Readable ? input : fileStream(input),
    options(overrides),
    async () => {
      tableCreated = true;
      return new PassThrough().resume();
    },
  ).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(IngestError);
  return Object.assign(error as IngestError, { tableCreated });
}

export const typesOf = (columns: readonly DatasetColumn[]): Record<string, string> =>
  Object.fromEntries(columns.map((column) => [column.name, column.type]));
