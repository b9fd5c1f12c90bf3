import type { Readable, Writable } from 'node:stream';
import type { ColumnType, DatasetColumn } from '../datasets/datasets.types.ts';
import { copyWriter, type CopyWriter } from './copy-writer.ts';
import { openCsv } from './csv.ts';
import { fastAllowed, fastCandidate, loadCsvFast } from './csv-fast.ts';
import { detect, HEAD_BYTES, type Detected } from './detect.ts';
import { rowEncoder } from './encode.ts';
import { IngestError } from './errors.ts';
import { inferTypes } from './infer.ts';
import { openJson } from './json.ts';
import { safeNames } from './names.ts';
import { openParquet } from './parquet.ts';
import { byteReader, type ByteReader } from './reader.ts';
import { rejectLog, type RejectLog } from './rejects.ts';
import { replayable, type Replayable } from './replay.ts';
import { utf8Text } from './text.ts';
import type { CopyFormat, IngestOptions, IngestResult, Source, SourceRow } from './types.ts';
import { openXlsx } from './xlsx.ts';

async function openSource(
  reader: ByteReader,
  detected: Detected,
  options: IngestOptions,
  replay: Replayable | undefined,
): Promise<Source> {
  const text = () => utf8Text(reader.chunks(), detected.encoding ?? 'utf-8', detected.bom);
  switch (detected.format) {
    case 'csv':
      return openCsv(replay ? replay.first : text(), detected, options);
    case 'json':
    case 'ndjson':
      return openJson(text(), detected.format, options);
    case 'parquet':
      return openParquet(reader.chunks(), options);
    case 'xlsx':
      return openXlsx(reader.chunks(), options);
  }
}

const override = (types: Record<string, ColumnType> | undefined, key: string): ColumnType | undefined =>
  types && Object.hasOwn(types, key) ? types[key] : undefined;

/** Safe names, then types: declared or inferred from the sample, with the caller's overrides on top. */
function decideColumns(source: Source, sample: unknown[][], options: IngestOptions): DatasetColumn[] {
  if (source.names.length === 0)
    throw new IngestError('invalid', 'The file has no columns', [{ line: 1, message: 'no columns' }]);
  const required = options.requiredColumns;
  // Checked before the types: an append's types are the dataset's, not something the caller sent.
  if (required && required.join('\0') !== source.names.join('\0')) {
    throw new IngestError(
      'invalid',
      `An append must have the dataset's columns, in order: ${required.join(', ')}`,
      [{ line: 1, message: `the file's columns are ${source.names.join(', ')}` }],
    );
  }
  const overrides = options.columnTypes;
  const names = safeNames(source.names);
  const unknown = Object.keys(overrides ?? {}).filter(
    (key) => !source.names.includes(key) && !names.includes(key),
  );
  if (unknown.length > 0) {
    throw new IngestError(
      'invalid',
      `Types are given for columns the file does not have: ${unknown.join(', ')} (its columns: ${source.names.join(', ')})`,
      unknown.map((column) => ({ line: 1, column, message: 'the file has no such column' })),
    );
  }
  // Control characters in a header mean bytes that are not a text table (PostgreSQL could not even store a NUL).
  const garbled = source.names.find((name) => [...name].some(isControlCharacter));
  if (garbled !== undefined) {
    throw new IngestError(
      'unsupported',
      'The first row holds control characters: this does not look like a text table',
    );
  }
  const types = source.declared ?? inferTypes(sample, source.names.length, source.textual);
  return source.names.map((original, i) => ({
    name: names[i]!,
    original_name: original,
    type: override(overrides, original) ?? override(overrides, names[i]!) ?? types[i]!,
  }));
}

/** C0 controls other than tab, line feed and carriage return. */
function isControlCharacter(character: string): boolean {
  const code = character.charCodeAt(0);
  return code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d;
}

export function refusal(log: RejectLog, complete: boolean): IngestError {
  const first = log.first[0]!;
  const where =
    first.column === undefined ? `line ${first.line}` : `line ${first.line}, column "${first.column}"`;
  const count = `${complete ? '' : 'at least '}${log.count} row${log.count === 1 ? '' : 's'}`;
  return new IngestError(
    'invalid',
    `${count} of the file cannot be loaded; the first, ${where}: ${first.message}`,
    log.first,
  );
}

interface Sampled {
  batches: AsyncIterator<SourceRow[]>;
  /** Rows read before the columns are decided, held until there is somewhere to write them. */
  held: SourceRow[];
  /** The values of the good ones among them. */
  sample: unknown[][];
  ended: boolean;
}

async function readSample(source: Source, options: IngestOptions): Promise<Sampled> {
  const batches = source.batches[Symbol.asyncIterator]();
  const held: SourceRow[] = [];
  const sample: unknown[][] = [];
  let ended = false;
  // Counted in rows read, good or not, so a file of nothing but bad rows is not held whole.
  while (!ended && held.length < options.limits.sampleRows) {
    const next = await batches.next();
    ended = next.done === true;
    for (const row of next.done ? [] : next.value) {
      held.push(row);
      if (!('reject' in row) && sample.length < options.limits.sampleRows) sample.push(row.values);
    }
  }
  return { batches, held, sample, ended };
}

type OnColumns = (columns: DatasetColumn[], format: CopyFormat) => Promise<Writable>;

async function load(
  source: Source,
  sampled: Sampled,
  columns: DatasetColumn[],
  options: IngestOptions,
  onColumns: OnColumns,
  onCopyFailure: (error: Error) => void,
): Promise<Omit<IngestResult, 'encoding'>> {
  const { limits } = options;
  const refuseBadRows = options.onError === 'fail';
  const log = rejectLog(limits.maxErrorsReported);
  const { batches, held } = sampled;
  const { ended } = sampled;

  const encode = rowEncoder(columns, limits.maxCellBytes, source.textual);
  const encodeRow = (row: SourceRow): string | undefined => {
    const encoded = 'reject' in row ? row.reject : encode(row.values, row.line);
    if (typeof encoded === 'string') return encoded;
    log.add(encoded, row.values);
    return undefined;
  };
  // Once a row is bad in 'fail' mode the load is refused: nothing more is written, only checked.
  const refused = (): boolean => refuseBadRows && log.count > 0;
  const enough = (): boolean => refuseBadRows && log.count >= limits.maxErrorsReported;
  const heldLines: (string | undefined)[] = [];
  for (const row of held) {
    if (enough()) break;
    heldLines.push(encodeRow(row));
  }

  let writer: CopyWriter | undefined;
  let written = 0;
  const write = (line: string | undefined): Promise<void> | undefined => {
    if (line === undefined || !writer || refused()) return undefined;
    written++;
    return writer.push(line);
  };
  try {
    // A sample that already refuses the file creates no table.
    if (!refused()) writer = copyWriter(await onColumns(columns, { format: 'text' }), onCopyFailure);
    for (const line of heldLines) await write(line);
    while (!ended && !enough()) {
      const next = await batches.next();
      if (next.done) break;
      for (const row of next.value) {
        const waiting = write(encodeRow(row));
        if (waiting) await waiting;
        if (enough()) break;
      }
    }
    if (refused()) throw refusal(log, !enough());
    await writer?.end();
  } finally {
    writer?.detach();
  }
  return {
    format: source.format,
    columns,
    rowsWritten: written,
    rowsRejected: log.count,
    rejects: log.first,
    rejectsCsv: log.csv,
  };
}

/**
 * Reads `input`, decides the columns from the first `sampleRows` rows, calls `onColumns` once
 * (where the caller creates the table and opens the COPY), then writes every row that fits as a
 * line of COPY text, honouring the stream's backpressure. See IngestOptions for 'fail' vs 'skip'.
 */
export async function ingest(
  input: Readable,
  options: IngestOptions,
  onColumns: OnColumns,
): Promise<IngestResult> {
  const reader = byteReader(input);
  let source: Source | undefined;
  try {
    const head = await reader.peek(HEAD_BYTES);
    if (head.length === 0)
      throw new IngestError('invalid', 'The file is empty', [{ line: 1, message: 'the file is empty' }]);
    const detected = detect(head, options, head.length < HEAD_BYTES);
    const replay = fastCandidate(detected, options)
      ? replayable(utf8Text(reader.chunks(), 'utf-8', detected.bom))
      : undefined;
    source = await openSource(reader, detected, options, replay);
    const sampled = await readSample(source, options);
    const columns = decideColumns(source, sampled.sample, options);
    const onCopyFailure = (error: Error): void => reader.fail(error);
    let result: Omit<IngestResult, 'encoding'>;
    if (replay?.replayable && fastAllowed(columns, sampled.held, options)) {
      result = await loadCsvFast({
        text: replay.all(),
        source,
        columns,
        options,
        onColumns,
        onCopyFailure,
        refusal,
      });
    } else {
      replay?.forget();
      result = await load(source, sampled, columns, options, onColumns, onCopyFailure);
    }
    return detected.encoding ? { ...result, encoding: detected.encoding } : result;
  } catch (error) {
    // When the COPY or the upload itself failed, whatever a parser threw on the way out is only an
    // echo of it (exceljs, say, reports a cut-off upload as a broken zip).
    throw reader.failure() ?? error;
  } finally {
    // Cleaning up must not turn a finished load into a failure; the OS clears its temporary directory.
    await source?.close().catch(() => undefined);
    reader.release();
  }
}
