import type { ColumnType } from '../datasets/datasets.types.ts';
import { fastCheck, type FastCheck } from './csv-fast-checks.ts';
import { countLines, createLineMap } from './csv-lines.ts';
import { lineError } from './errors.ts';
import type { RejectedRow } from './types.ts';
import { copyText, isBlank } from './values.ts';

/**
 * The CSV fast path's reader: splits UTF-8 CSV bytes into records and fields the way csv-parse
 * does in the general path (quote doubling, a quote inside an unquoted field is a character,
 * blank lines skipped), checks each value at byte level, and hands on the file's own bytes for
 * PostgreSQL's `COPY … (FORMAT csv)` to parse again. A record whose bytes PostgreSQL might read
 * differently from the general path (whitespace, a stray quote, an unusual spelling of a value)
 * is decoded and judged by the general path's own encoder, then written out again in a form
 * PostgreSQL reads exactly; a blank line or the header is left out.
 */

const LF = 0x0a;
const CR = 0x0d;

export interface ScanSetup {
  delimiter: number;
  quote: number;
  types: readonly ColumnType[];
  /** The first record that is not blank names the columns and is not data. */
  header: boolean;
  maxCellBytes: number;
  /** A record longer than this (in characters) stops the read, as in csv-parse. */
  maxRecordChars: number;
  /** The general path's check of one row: its COPY text, or why it does not fit. */
  encode: (values: readonly string[], line: number) => string | RejectedRow;
  /** A row that does not fit; from then on nothing more is handed on. */
  onReject: (reject: RejectedRow, values: readonly string[]) => void;
}

export interface CsvScanner {
  /** The bytes to hand on for this chunk (possibly none). */
  push(chunk: Buffer): Buffer[];
  /** The bytes to hand on for what was left at the end of the file. */
  end(): Buffer[];
  /** Data rows handed on so far. */
  readonly rows: number;
  /** The file's line for a line number of the bytes handed on (which may lack the header or blank lines). */
  fileLine(sentLine: number): number;
}

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  QuoteInQuoted,
}

/** Per field: where its value lies in the buffer, and what the scan saw in it. */
const QUOTED = 1;
const DOUBLED = 2;
/** A NUL, a carriage return or a quote inside an unquoted field: PostgreSQL would read it differently. */
const ODD = 4;

export function csvScanner(setup: ScanSetup): CsvScanner {
  const { delimiter, quote, types } = setup;
  const width = types.length;
  const checks: (FastCheck | undefined)[] = types.map((type) => fastCheck(type, setup.maxCellBytes));
  // The bytes that end or mark an unquoted field, as a table: one lookup per byte instead of five tests.
  const stops = new Uint8Array(256);
  for (const byte of [delimiter, LF, quote, CR, 0]) stops[byte] = 1;

  let buffer: Buffer = Buffer.alloc(0);
  let state = State.FieldStart;
  let position = 0;
  let recordStart = 0;
  let fieldStart = 0;
  let flags = 0;
  // Field boundaries of the record being read: start, end, flags, for each field; the first
  // `used` entries count. Reused from record to record: a new array per record is garbage per row.
  const fields: number[] = [];
  let used = 0;
  let line = 1;
  let recordLine = 1;
  let headerPending = setup.header;
  let refused = false;
  // Lines handed on so far, and the file line of each.
  let sentLines = 0;
  let rows = 0;
  const lines = createLineMap();

  const endField = (start: number, end: number, seen: number): void => {
    fields[used++] = start;
    fields[used++] = end;
    fields[used++] = seen;
  };

  const decode = (): string[] => {
    const values: string[] = [];
    for (let f = 0; f < used; f += 3) {
      const text = buffer.toString('utf8', fields[f], fields[f + 1]);
      const quoted = (fields[f + 2]! & DOUBLED) !== 0;
      values.push(
        quoted ? text.replaceAll(String.fromCharCode(quote, quote), String.fromCharCode(quote)) : text,
      );
    }
    return values;
  };

  /** A record as PostgreSQL must read it: canonical values, quoted; blanks null. */
  const rewrite = (values: readonly string[]): Buffer => {
    const q = String.fromCharCode(quote);
    const out = values.map((value, i) => {
      if (isBlank(value)) return '';
      const text = copyText(types[i]!, value, true)!;
      return q + text.replaceAll(q, q + q) + q;
    });
    return Buffer.from(`${out.join(String.fromCharCode(delimiter))}\n`);
  };

  /** What to send in place of the record's own bytes: itself (undefined), nothing, or other bytes. */
  function judge(): Buffer | null | undefined {
    const count = used / 3;
    if (count === 1 && fields[1] === fields[0]) return null;
    if (headerPending) {
      headerPending = false;
      return null;
    }
    if (count !== width) {
      const values = decode();
      refused = true;
      setup.onReject(
        { line: recordLine, message: `the row has ${count} fields; the header has ${width}` },
        values,
      );
      return null;
    }
    let fine = true;
    for (let f = 0, i = 0; f < used; f += 3, i++) {
      const start = fields[f]!;
      const end = fields[f + 1]!;
      // An empty field is null (unquoted by PostgreSQL's rule, quoted by FORCE_NULL).
      if (start === end) continue;
      const check = checks[i];
      if ((fields[f + 2]! & (ODD | DOUBLED)) !== 0 || !check || !check(buffer, start, end)) {
        fine = false;
        break;
      }
    }
    if (fine) return undefined;
    const values = decode();
    const encoded = setup.encode(values, recordLine);
    if (typeof encoded !== 'string') {
      refused = true;
      setup.onReject(encoded, values);
      return null;
    }
    return rewrite(values);
  }

  function tooLong(end: number): void {
    const chars = buffer.toString('utf8', recordStart, end).length;
    if (chars > setup.maxRecordChars) {
      throw lineError(
        'invalid',
        recordLine,
        `the row starting on this line is longer than ${setup.maxRecordChars} characters: is a quote left open?`,
      );
    }
  }

  // The bytes of the current buffer to hand on: pieces of it, or records written anew.
  let out: Buffer[] = [];
  let sendFrom = 0;

  /** The record ending just before `next` is complete: judge it and hand it on, or not. */
  function finishRecord(next: number): void {
    if (next - recordStart > setup.maxRecordChars) tooLong(next);
    const replacement = judge();
    const fileLines = line - recordLine;
    const sending = replacement !== null && !refused;
    if (sending) rows++;
    let sent = !sending ? 0 : replacement ? countLines(replacement) : fileLines;
    // PostgreSQL learns the line end at the first unquoted one, and counts no quoted line break
    // before it: to its line counter, the first record sent is one line.
    if (sending && sentLines === 0) sent = Math.min(sent, 1);
    if (replacement !== undefined || refused) {
      if (!refused && recordStart > sendFrom) out.push(buffer.subarray(sendFrom, recordStart));
      if (replacement && !refused) out.push(replacement);
      sendFrom = next;
    }
    sentLines += sent;
    // Sent and file lines move apart when a record is left out or counts differently.
    if (!refused && sent !== fileLines) lines.movedApart(sentLines, line - 1);
    used = 0;
    recordStart = next;
    recordLine = line;
  }

  /**
   * Scans from `position` to the end of `buffer`; returns the bytes to send. The state the loop
   * touches per byte is held in locals and stored back at the end: variables shared with other
   * functions live in a heap context, and reading them there for every byte doubles the scan's cost.
   */
  function scan(atEnd: boolean): Buffer[] {
    out = [];
    sendFrom = 0;
    const bytes = buffer;
    const length = bytes.length;
    const table = stops;
    let current = state;
    let start = fieldStart;
    let seen = flags;
    let i = position;
    while (i < length) {
      const byte = bytes[i]!;
      switch (current) {
        case State.FieldStart:
          if (byte === quote) {
            current = State.Quoted;
            seen = QUOTED;
            start = i + 1;
            i++;
            continue;
          }
          // The byte is read again as the first of an unquoted field.
          start = i;
          current = State.Unquoted;
          continue;
        case State.Unquoted: {
          let j = i;
          let b = byte;
          while (table[b] === 0) {
            if (++j === length) break;
            b = bytes[j]!;
          }
          i = j;
          if (j === length) continue;
          if (b === delimiter) {
            endField(start, j, seen);
            seen = 0;
            current = State.FieldStart;
          } else if (b === LF) {
            endField(start, j, seen);
            seen = 0;
            line++;
            finishRecord(j + 1);
            current = State.FieldStart;
          } else seen |= ODD;
          i++;
          continue;
        }
        case State.Quoted: {
          if (byte === quote) current = State.QuoteInQuoted;
          else if (byte === LF) line++;
          else if (byte === 0 || byte === CR) seen |= ODD;
          i++;
          continue;
        }
        case State.QuoteInQuoted:
          if (byte === quote) {
            seen |= DOUBLED;
            current = State.Quoted;
          } else if (byte === delimiter) {
            endField(start, i - 1, seen);
            seen = 0;
            current = State.FieldStart;
          } else if (byte === LF) {
            endField(start, i - 1, seen);
            seen = 0;
            line++;
            finishRecord(i + 1);
            current = State.FieldStart;
          } else {
            throw lineError(
              'invalid',
              line,
              'a closing quote is followed by other characters; a quote inside a quoted field is written twice ("")',
            );
          }
          i++;
          continue;
      }
    }
    state = current;
    fieldStart = start;
    flags = seen;
    position = length;
    if (atEnd && (recordStart < length || used > 0)) {
      if (state === State.Quoted) {
        throw lineError('invalid', recordLine, 'a quoted field starts on this line and is never closed');
      }
      endField(fieldStart, state === State.QuoteInQuoted ? length - 1 : length, flags);
      finishRecord(length);
      state = State.FieldStart;
      flags = 0;
    }
    if (length - recordStart > setup.maxRecordChars) tooLong(length);
    if (!refused && recordStart > sendFrom) out.push(bytes.subarray(sendFrom, recordStart));
    return out;
  }

  /** Keeps the unfinished record for the next chunk; offsets move with it. */
  function carry(): void {
    const shift = recordStart;
    if (shift === 0) return;
    buffer = Buffer.from(buffer.subarray(shift));
    position -= shift;
    fieldStart -= shift;
    for (let f = 0; f < used; f += 3) {
      fields[f] = fields[f]! - shift;
      fields[f + 1] = fields[f + 1]! - shift;
    }
    recordStart = 0;
  }

  return {
    get rows() {
      return rows;
    },
    push(chunk) {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      const out = scan(false);
      carry();
      if (refused) return [];
      return out;
    },
    end() {
      const out = scan(true);
      return refused ? [] : out;
    },
    fileLine: lines.fileLine,
  };
}
