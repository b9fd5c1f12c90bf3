import { isUtf8 } from 'node:buffer';
import { IngestError } from './errors.ts';
import type { IngestOptions, SourceFormat, TextEncoding } from './types.ts';

/** How the start of the file is read to decide its format, encoding and delimiter. */
export const HEAD_BYTES = 64 * 1024;
const BINARY_PROBE_BYTES = 8 * 1024;

export interface Detected {
  format: SourceFormat;
  /** Text formats only. */
  encoding?: TextEncoding;
  /** Bytes of byte-order mark to skip (UTF-8; the UTF-16 decoder drops its own). */
  bom: number;
  /** The head decoded, for sniffing the delimiter and header (text formats only). */
  headText: string;
}

const EXTENSIONS: Record<string, SourceFormat> = {
  csv: 'csv',
  tsv: 'csv',
  tab: 'csv',
  txt: 'csv',
  psv: 'csv',
  json: 'json',
  ndjson: 'ndjson',
  jsonl: 'ndjson',
  parquet: 'parquet',
  pq: 'parquet',
  xlsx: 'xlsx',
  xlsm: 'xlsx',
};

const READABLE = 'CSV, TSV, JSON, NDJSON, Parquet or Excel .xlsx';

export function extensionOf(filename: string | undefined): string {
  const match = /\.([a-z0-9]+)$/i.exec(filename ?? '');
  return match?.[1]?.toLowerCase() ?? '';
}

const startsWith = (head: Buffer, magic: string): boolean =>
  head.subarray(0, magic.length).toString('latin1') === magic;

/**
 * Format, encoding and byte-order mark of the file whose first bytes are `head` (never empty);
 * `whole`: the head is the entire file, so a character cut off at its end is really broken.
 */
export function detect(
  head: Buffer,
  options: Pick<IngestOptions, 'format' | 'filename' | 'encoding'>,
  whole = false,
): Detected {
  const extension = extensionOf(options.filename);
  if (!options.format && (extension === 'xls' || extension === 'xlsb')) {
    throw new IngestError(
      'unsupported',
      `.${extension} workbooks are not supported: save the sheet as .xlsx or CSV`,
    );
  }
  let format = options.format ?? EXTENSIONS[extension];
  if (!format && startsWith(head, 'PAR1')) format = 'parquet';
  if (!format && startsWith(head, 'PK\x03\x04')) format = 'xlsx';
  if (format === 'parquet' || format === 'xlsx') {
    const magic = format === 'parquet' ? 'PAR1' : 'PK\x03\x04';
    if (!startsWith(head, magic)) {
      throw new IngestError(
        'unsupported',
        `This is not ${format === 'parquet' ? 'a Parquet' : 'an Excel .xlsx'} file`,
      );
    }
    return { format, bom: 0, headText: '' };
  }

  const { encoding, bom } = options.encoding
    ? {
        encoding: options.encoding,
        bom: options.encoding === 'utf-8' && startsWith(head, '\xEF\xBB\xBF') ? 3 : 0,
      }
    : detectEncoding(head, whole);
  if (!encoding.startsWith('utf-16') && looksBinary(head)) {
    throw new IngestError('unsupported', `This is not a text file: DataLab reads ${READABLE}`);
  }
  const headText = new TextDecoder(encoding).decode(head.subarray(bom));
  if (!format || format === 'json') {
    const first = /\S/.exec(headText)?.[0];
    format = first === '[' ? 'json' : first === '{' ? 'ndjson' : format;
  }
  return { format: format ?? 'csv', encoding, bom, headText };
}

/** BOM first, then UTF-16's NUL bytes beside ASCII, then UTF-8 if it decodes, else Latin-1. */
export function detectEncoding(head: Buffer, whole = false): { encoding: TextEncoding; bom: number } {
  if (startsWith(head, '\xEF\xBB\xBF')) return { encoding: 'utf-8', bom: 3 };
  if (startsWith(head, '\xFF\xFE')) return { encoding: 'utf-16le', bom: 2 };
  if (startsWith(head, '\xFE\xFF')) return { encoding: 'utf-16be', bom: 2 };
  const probe = head.subarray(0, BINARY_PROBE_BYTES);
  let evenNuls = 0;
  let oddNuls = 0;
  for (let i = 0; i + 1 < probe.length; i += 2) {
    if (probe[i] === 0 && probe[i + 1] !== 0) evenNuls++;
    if (probe[i] !== 0 && probe[i + 1] === 0) oddNuls++;
  }
  const pairs = Math.floor(probe.length / 2);
  // Mostly-ASCII text in UTF-16 has a NUL in one byte of most pairs and hardly ever in the other.
  if (oddNuls > pairs * 0.3 && evenNuls * 10 < oddNuls) return { encoding: 'utf-16le', bom: 0 };
  if (evenNuls > pairs * 0.3 && oddNuls * 10 < evenNuls) return { encoding: 'utf-16be', bom: 0 };
  const checked = whole ? head : head.subarray(0, completeUtf8Length(head));
  return { encoding: isUtf8(checked) ? 'utf-8' : 'latin1', bom: 0 };
}

/** Text has no NUL bytes and few control characters; images, archives and executables have both. */
export function looksBinary(head: Buffer): boolean {
  const probe = head.subarray(0, BINARY_PROBE_BYTES);
  let control = 0;
  for (const byte of probe) {
    if (byte === 0) return true;
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d) || byte === 0x7f)
      control++;
  }
  return control > probe.length * 0.1;
}

/** Where the last complete UTF-8 sequence ends: a chunk may stop inside a character. */
export function completeUtf8Length(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(4, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

const DELIMITERS = [',', ';', '\t', '|'];
const SAMPLE_LINES = 50;

/** Splits the head into lines and counts each delimiter outside quotes; a quoted newline is not a line end. */
function delimiterCounts(text: string, quote: string): number[][] {
  const counts: number[][] = [DELIMITERS.map(() => 0)];
  let quoted = false;
  for (let i = 0; i < text.length && counts.length <= SAMPLE_LINES; i++) {
    const char = text[i]!;
    if (char === quote) quoted = !quoted;
    else if (!quoted && char === '\n') counts.push(DELIMITERS.map(() => 0));
    else if (!quoted) {
      const index = DELIMITERS.indexOf(char);
      if (index >= 0) counts[counts.length - 1]![index]!++;
    }
  }
  // The last line may be cut off by the end of the head; use it only when it is all there is.
  return counts.length > 1 ? counts.slice(0, -1) : counts;
}

/**
 * The candidate that splits every sampled line into the same number of fields wins (the most
 * fields among those); otherwise the one most lines agree on. A file with none is one column.
 */
export function detectDelimiter(text: string, quote: string): string {
  const counts = delimiterCounts(text, quote);
  let best = ',';
  let bestScore = -1;
  DELIMITERS.forEach((delimiter, d) => {
    const perLine = counts.map((line) => line[d]!);
    const first = perLine[0]!;
    if (Math.max(...perLine) === 0) return;
    const agreeing = perLine.filter((count) => count === first && count > 0).length;
    const consistent = agreeing === perLine.length;
    const score = (consistent ? 1e9 : 0) + agreeing * 1e4 + first;
    if (score > bestScore) {
      best = delimiter;
      bestScore = score;
    }
  });
  return best;
}

/** Fields on the first line of the head (at least this many if the line goes on beyond it). */
export function firstLineFields(text: string, delimiter: string, quote: string): number {
  let fields = 1;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === quote) quoted = !quoted;
    else if (!quoted && char === '\n') break;
    else if (!quoted && text.startsWith(delimiter, i)) fields++;
  }
  return fields;
}
