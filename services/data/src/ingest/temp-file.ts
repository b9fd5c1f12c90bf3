import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** The upload written out to a temporary file, for formats that must be read out of order (zip, Parquet). */
export interface TempFile {
  path: string;
  handle: FileHandle;
  size: number;
  /** Closes and deletes it; safe to call more than once. */
  close(): Promise<void>;
}

export async function tempFileOf(chunks: AsyncIterable<Buffer>, name: string): Promise<TempFile> {
  const directory = await mkdtemp(join(tmpdir(), 'datalab-ingest-'));
  const path = join(directory, name);
  let handle: FileHandle | undefined;
  const close = async (): Promise<void> => {
    await handle?.close();
    handle = undefined;
    await rm(directory, { recursive: true, force: true });
  };
  try {
    await pipeline(chunks, createWriteStream(path));
    handle = await open(path, 'r');
    return { path, handle, size: (await handle.stat()).size, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Exactly `length` bytes from `position`, or fewer at the end of the file. */
export async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const bytes = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(bytes, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return bytes.subarray(0, filled);
}
