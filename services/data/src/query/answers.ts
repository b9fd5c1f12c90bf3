import type { Readable } from 'node:stream';
import type { RowCursor } from './executor.ts';
import { CONTENT_TYPES, encode } from './formats.ts';
import type { QueryFormat } from './query.schemas.ts';
import { createSpool, type SpoolOptions, type Spooled } from './spool.ts';

/**
 * An answer ready to send, whole: its size, and whether rows were cut, are known before the head
 * is written, so both go out as headers every client and proxy sees (Content-Length,
 * x-datalab-truncated) rather than as a trailer.
 */
export interface QueryAnswer {
  contentType: string;
  body: Buffer | Readable;
  /** Bytes in `body`. */
  size: number;
  cached: boolean;
  /** Rows past QUERY_MAX_ROWS existed and are not in the answer. */
  truncated: boolean;
  /** A file name to offer (exports). */
  filename?: string;
}

/**
 * Encodes every row of the cursor into a spool and gives the connection back before anything is
 * sent, so a slow client holds only the spool. A spool past its limit refuses the answer.
 */
export async function spoolAnswer(
  cursor: RowCursor,
  format: QueryFormat,
  options: SpoolOptions,
): Promise<Spooled> {
  const spool = createSpool(options);
  try {
    const source = { columns: cursor.columns, batches: cursor.batches(), truncated: cursor.truncated };
    for await (const chunk of encode(format, source)) await spool.write(chunk);
    return spool.finish();
  } catch (error) {
    await spool.discard();
    throw error;
  } finally {
    await cursor.close();
  }
}

export function spooledAnswer(format: QueryFormat, spooled: Spooled, truncated: boolean): QueryAnswer {
  return {
    contentType: CONTENT_TYPES[format],
    body: spooled.stream(),
    size: spooled.size,
    cached: false,
    truncated,
  };
}

export function wholeAnswer(contentType: string, body: Buffer, truncated: boolean): QueryAnswer {
  return { contentType, body, size: body.length, cached: true, truncated };
}
