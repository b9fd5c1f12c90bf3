import type { Writable } from 'node:stream';
import type { DatasetColumn } from '../datasets/datasets.types.ts';
import { copyWriter } from './copy-writer.ts';
import { csvScanner, type CsvScanner } from './csv-scan.ts';
import type { Detected } from './detect.ts';
import { rowEncoder } from './encode.ts';
import { IngestError } from './errors.ts';
import { rejectLog, type RejectLog } from './rejects.ts';
import { maxRecordChars } from './text.ts';
import type { CopyFormat, IngestOptions, IngestResult, Source, SourceRow } from './types.ts';

/**
 * The fast path for the common upload: a UTF-8 CSV whose bad rows refuse the file. The sample
 * is read and the columns decided exactly as in the general path; then, instead of csv-parse
 * turning every value into a string and back into COPY text, the file's own bytes go to
 * `COPY … (FORMAT csv)` after a byte-level check of every value (csv-scan.ts). Rows that do not
 * fit are reported as the general path reports them, and PostgreSQL still has the last word: a
 * value it refuses is reported at its line and column of the file.
 */

/** Whether a file may take the fast path, as far as its options and head tell. */
export function fastCandidate(detected: Detected, options: IngestOptions): boolean {
  const single = (char: string | undefined): boolean =>
    char === undefined || (char.length === 1 && char.charCodeAt(0) < 0x80 && char !== '\n' && char !== '\r');
  return (
    detected.format === 'csv' &&
    detected.encoding === 'utf-8' &&
    options.onError === 'fail' &&
    single(options.delimiter) &&
    single(options.quote) &&
    // Line ends are LF: PostgreSQL fixes the line end from the first line, csv-parse guesses it.
    !detected.headText.includes('\r')
  );
}

/** Whether the decided columns and the sample allow it: no JSON column, no row of the sample refused. */
export function fastAllowed(
  columns: readonly DatasetColumn[],
  held: readonly SourceRow[],
  options: IngestOptions,
) {
  if (columns.some((column) => column.type === 'json')) return false;
  const encode = rowEncoder(columns, options.limits.maxCellBytes, true);
  return held.every((row) => !('reject' in row) && typeof encode(row.values, row.line) === 'string');
}

/** PostgreSQL's refusal of a value (class 22: data exception) as a refusal of the file's row. */
function copyRefusal(error: Error, scanner: CsvScanner, columns: readonly DatasetColumn[]): Error {
  const { code, where } = error as { code?: string; where?: string };
  if (!code?.startsWith('22') || !where) return error;
  const match = /line (\d+)(?:, column ([^:]+))?(?:: "([\s\S]*)")?/.exec(where);
  if (!match) return error;
  const line = scanner.fileLine(Number(match[1]));
  const column = columns.find((candidate) => candidate.name === match[2]);
  const reject = {
    line,
    ...(column ? { column: column.original_name, expected: column.type } : {}),
    ...(match[3] !== undefined ? { value: match[3] } : {}),
    message: error.message,
  };
  const place = column ? `line ${line}, column "${column.original_name}"` : `line ${line}`;
  return new IngestError('invalid', `A row of the file cannot be loaded; ${place}: ${error.message}`, [
    reject,
  ]);
}

export interface FastLoad {
  text: AsyncIterable<Buffer>;
  source: Source;
  columns: DatasetColumn[];
  options: IngestOptions;
  onColumns: (columns: DatasetColumn[], format: CopyFormat) => Promise<Writable>;
  onCopyFailure: (error: Error) => void;
  refusal: (log: RejectLog, complete: boolean) => IngestError;
}

export async function loadCsvFast(load: FastLoad): Promise<Omit<IngestResult, 'encoding'>> {
  const { options, columns } = load;
  const { limits } = options;
  const log = rejectLog(limits.maxErrorsReported);
  const encode = rowEncoder(columns, limits.maxCellBytes, true);
  const format: CopyFormat = {
    format: 'csv',
    delimiter: load.source.delimiter ?? ',',
    quote: options.quote ?? '"',
  };
  const scanner = csvScanner({
    delimiter: format.delimiter.charCodeAt(0),
    quote: format.quote.charCodeAt(0),
    types: columns.map((column) => column.type),
    header: load.source.header ?? false,
    maxCellBytes: limits.maxCellBytes,
    maxRecordChars: maxRecordChars(limits),
    encode,
    onReject: (reject, values) => log.add(reject, values),
  });
  const enough = (): boolean => log.count >= limits.maxErrorsReported;
  const writer = copyWriter(await load.onColumns(columns, format), (error) =>
    load.onCopyFailure(copyRefusal(error, scanner, columns)),
  );
  try {
    const send = async (pieces: Buffer[]): Promise<void> => {
      for (const piece of pieces) {
        const waiting = writer.pushBytes(piece);
        if (waiting) await waiting;
      }
    };
    for await (const chunk of load.text) {
      await send(scanner.push(chunk));
      if (enough()) break;
    }
    if (!enough()) await send(scanner.end());
    if (log.count > 0) throw load.refusal(log, !enough());
    await writer.end();
  } finally {
    writer.detach();
  }
  return {
    format: 'csv',
    columns,
    rowsWritten: scanner.rows,
    rowsRejected: 0,
    rejects: [],
    rejectsCsv: log.csv,
  };
}
