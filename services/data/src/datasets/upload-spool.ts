import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '@datalab/platform';

export interface UploadLimits {
  /** DATA_MAX_UPLOAD_BYTES */
  maxBytes: number;
  /** DATA_UPLOAD_MIN_BYTES_PER_SECOND */
  minBytesPerSecond: number;
  /** DATA_UPLOAD_RATE_WINDOW_MS: the rate is measured over each window; the first one is the grace period. */
  rateWindowMs: number;
}

/** An upload received whole into a temporary file: read it as often as needed, then remove it. */
export interface SpooledUpload {
  bytes: number;
  open(): Readable;
  remove(): Promise<void>;
}

export function tooLarge(maxBytes: number): AppError {
  return new AppError(
    'too_large',
    `The file is larger than the ${maxBytes} bytes allowed (DATA_MAX_UPLOAD_BYTES)`,
    { extensions: { limit: 'DATA_MAX_UPLOAD_BYTES', limit_bytes: maxBytes } },
  );
}

function tooSlow(limits: UploadLimits, received: number): AppError {
  const seconds = limits.rateWindowMs / 1000;
  return new AppError(
    'too_slow',
    `The upload arrived at ${Math.floor(received / seconds)} bytes per second over the last ${seconds} s; ` +
      `at least ${limits.minBytesPerSecond} are required (DATA_UPLOAD_MIN_BYTES_PER_SECOND)`,
    {
      extensions: {
        limit: 'DATA_UPLOAD_MIN_BYTES_PER_SECOND',
        limit_bytes_per_second: limits.minBytesPerSecond,
      },
    },
  );
}

/**
 * Counts the bytes going through, and fails the stream when a window of `rateWindowMs` brought
 * fewer than the minimum rate asks for. A sliding check (not an average since the start) so that
 * a fast first megabyte does not buy an hour of trickling.
 */
function paceMeter(limits: UploadLimits): Transform & { total: () => number } {
  let total = 0;
  let inWindow = 0;
  const needed = (limits.minBytesPerSecond * limits.rateWindowMs) / 1000;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      inWindow += chunk.length;
      callback(null, chunk);
    },
  });
  const timer = setInterval(() => {
    if (inWindow < needed) meter.destroy(tooSlow(limits, inWindow));
    inWindow = 0;
  }, limits.rateWindowMs);
  timer.unref();
  meter.once('close', () => clearInterval(timer));
  return Object.assign(meter, { total: () => total });
}

/**
 * Receives the whole upload into a temporary file before anything else happens, so that no
 * database connection waits for a slow client: the transaction opens only once every byte is here.
 * Refuses a file over the size limit (busboy cuts it short and marks it `truncated`, also when the
 * limit is passed within the first chunk, before any listener could hear its 'limit' event) and an
 * upload slower than the minimum rate.
 */
export async function spoolUpload(
  file: Readable & { truncated?: boolean },
  limits: UploadLimits,
): Promise<SpooledUpload> {
  const directory = await mkdtemp(join(tmpdir(), 'datalab-upload-'));
  const path = join(directory, 'upload');
  const remove = () => rm(directory, { recursive: true, force: true });
  const meter = paceMeter(limits);
  try {
    await pipeline(file, meter, createWriteStream(path));
    if (file.truncated) throw tooLarge(limits.maxBytes);
  } catch (error) {
    await remove();
    // What is left of the body is not read; the route closes the connection after its answer.
    file.on('error', () => undefined);
    throw error;
  }
  return { bytes: meter.total(), open: () => createReadStream(path), remove };
}
