import { Readable } from 'node:stream';
import type { RowCursor } from './executor.ts';
import { CONTENT_TYPES, encode } from './formats.ts';
import type { QueryFormat } from './query.schemas.ts';

/** An answer ready to send: bytes when whole (from the cache), otherwise a stream straight from the cursor. */
export interface QueryAnswer {
  contentType: string;
  body: Buffer | Readable;
  cached: boolean;
  /** Known at once for a whole answer; for a stream, once it has ended. */
  truncated: () => boolean;
  /** A file name to offer (exports). */
  filename?: string;
}

export interface StreamOptions {
  /** Bytes worth keeping for `onComplete`; beyond that the answer only streams. */
  keepBytes: number;
  /** Called once the last byte was produced: with the whole answer when it fitted in `keepBytes`. */
  onComplete?: (body: Buffer | undefined) => Promise<void>;
}

export function streamAnswer(cursor: RowCursor, format: QueryFormat, options: StreamOptions): QueryAnswer {
  const chunks = encode(format, {
    columns: cursor.columns,
    batches: cursor.batches(),
    truncated: () => cursor.truncated,
  });
  async function* keeping(): AsyncGenerator<Uint8Array> {
    let kept: Buffer[] | undefined = options.keepBytes > 0 ? [] : undefined;
    let size = 0;
    for await (const chunk of chunks) {
      size += chunk.byteLength;
      if (kept && size <= options.keepBytes) kept.push(Buffer.from(chunk));
      else kept = undefined;
      yield chunk;
    }
    await options.onComplete?.(kept && Buffer.concat(kept));
  }
  const body = Readable.from(keeping(), { objectMode: false });
  // A client that hangs up before the first row must still give the connection back.
  body.once('close', () => void cursor.close());
  return { contentType: CONTENT_TYPES[format], body, cached: false, truncated: () => cursor.truncated };
}

export function wholeAnswer(contentType: string, body: Buffer, truncated: boolean): QueryAnswer {
  return { contentType, body, cached: true, truncated: () => truncated };
}
