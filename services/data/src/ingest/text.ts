import { isUtf8 } from 'node:buffer';
import { completeUtf8Length } from './detect.ts';
import { lineError } from './errors.ts';
import type { IngestLimits, TextEncoding } from './types.ts';

/**
 * The file's text as UTF-8 bytes, chunk by chunk, each ending on a whole character. The parsers
 * work on UTF-8 bytes, so UTF-8 input is validated and passed through (decoding it to a string
 * only to encode it back would double the work); other encodings go through a streaming
 * TextDecoder. Invalid UTF-8 is an error naming its line.
 */
export async function* utf8Text(
  chunks: AsyncIterable<Buffer>,
  encoding: TextEncoding,
  bom: number,
): AsyncGenerator<Buffer> {
  if (encoding !== 'utf-8') {
    // The decoder drops a UTF-16 byte-order mark itself.
    const decoder = new TextDecoder(encoding);
    for await (const chunk of chunks) {
      const text = decoder.decode(chunk, { stream: true });
      if (text) yield Buffer.from(text);
    }
    const rest = decoder.decode();
    if (rest) yield Buffer.from(rest);
    return;
  }

  let skip = bom;
  let tail: Buffer | undefined;
  let newlines = 0;
  for await (const chunk of chunks) {
    const dropped = Math.min(skip, chunk.length);
    skip -= dropped;
    const bytes = tail ? Buffer.concat([tail, chunk.subarray(dropped)]) : chunk.subarray(dropped);
    const cut = completeUtf8Length(bytes);
    // Copied, so a few bytes of tail do not keep the whole chunk alive.
    tail = cut < bytes.length ? Buffer.from(bytes.subarray(cut)) : undefined;
    const body = bytes.subarray(0, cut);
    if (!isUtf8(body)) throw invalidUtf8(newlines + countNewlines(body, firstInvalidByte(body)) + 1);
    newlines += countNewlines(body, body.length);
    if (body.length > 0) yield body;
  }
  if (tail) throw invalidUtf8(newlines + 1);
}

function invalidUtf8(line: number) {
  return lineError(
    'invalid',
    line,
    'the file is not valid UTF-8 here; if it is Latin-1 or Windows-1252, upload it again with encoding=latin1',
  );
}

function countNewlines(bytes: Buffer, end: number): number {
  let count = 0;
  for (let i = bytes.indexOf(10); i !== -1 && i < end; i = bytes.indexOf(10, i + 1)) count++;
  return count;
}

/** Only on the error path: where the first malformed sequence starts. */
function firstInvalidByte(bytes: Buffer): number {
  for (let i = 0; i < bytes.length;) {
    const byte = bytes[i]!;
    const length =
      byte < 0x80
        ? 1
        : byte >= 0xc2 && byte < 0xe0
          ? 2
          : byte >= 0xe0 && byte < 0xf0
            ? 3
            : byte >= 0xf0 && byte < 0xf5
              ? 4
              : 0;
    if (length === 0 || !isUtf8(bytes.subarray(i, i + length))) return i;
    i += length;
  }
  return bytes.length;
}

/**
 * The longest record (CSV row, JSON object, NDJSON line) held in memory while it is parsed, in
 * characters: every column at the cell limit, but never more than 64 Mi — past that, a quote or
 * brace left open is far likelier than a real row.
 */
export function maxRecordChars(limits: IngestLimits): number {
  return Math.min(limits.maxColumns * limits.maxCellBytes, 64 * 1024 * 1024);
}
