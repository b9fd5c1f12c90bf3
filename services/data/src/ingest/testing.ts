import { PassThrough, Readable } from 'node:stream';
import { expect } from 'vitest';
import type { DatasetColumn } from '../datasets/datasets.types.ts';
import { IngestError } from './errors.ts';
import { ingest } from './ingest.ts';
import type { IngestLimits, IngestOptions, IngestResult } from './types.ts';

/** Helpers for the ingest tests: run a file through the pipeline into memory and read the COPY text back. */

export const LIMITS: IngestLimits = {
  maxColumns: 2000,
  maxCellBytes: 1024 * 1024,
  maxErrorsReported: 20,
  sampleRows: 1000,
};

export interface Loaded {
  result: IngestResult;
  /** What `onColumns` received. */
  columns: DatasetColumn[];
  /** The COPY text, parsed back: one array per row, null for \N. */
  rows: (string | null)[][];
  copyText: string;
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
  const chunks: Buffer[] = [];
  const result = await ingest(
    input instanceof Readable ? input : fileStream(input),
    options(overrides),
    async (found) => {
      columns = found;
      const copy = new PassThrough();
      copy.on('data', (chunk: Buffer) => chunks.push(chunk));
      return copy;
    },
  );
  const copyText = Buffer.concat(chunks).toString();
  return { result, columns, rows: parseCopy(copyText), copyText };
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
