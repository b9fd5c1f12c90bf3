import { randomBytes } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

/**
 * An answer is read whole from the database before its first byte is sent, so the connection
 * goes back to the pool at database speed, not at the client's: a slow reader holds only its
 * spool. The first `memoryBytes` stay in memory, the rest goes to a temporary file that is
 * unlinked as soon as it is opened (it disappears with its last descriptor, even if the process
 * dies). Past `maxBytes` a write fails with the caller's error.
 */

export interface SpoolOptions {
  memoryBytes: number;
  maxBytes: number;
  /** The refusal a write past `maxBytes` throws. */
  tooLarge: () => Error;
  /** Where the file goes; the system's temporary directory (TMPDIR) by default. */
  directory?: string;
}

/** What was spooled, ready to be sent once. */
export interface Spooled {
  size: number;
  /** The bytes as one buffer (read back from the file if they spilled), for the query cache. */
  toBuffer: () => Promise<Buffer>;
  /** The bytes as a stream; the file is closed when it ends or is destroyed. */
  stream: () => Readable;
  /** Frees memory and file when the bytes will not be sent. */
  discard: () => Promise<void>;
}

export interface Spool {
  write: (chunk: Uint8Array) => Promise<void>;
  finish: () => Spooled;
  discard: () => Promise<void>;
}

async function unlinkedFile(directory: string): Promise<FileHandle> {
  const file = path.join(directory, `datalab-answer-${randomBytes(8).toString('hex')}`);
  const handle = await open(file, 'wx+', 0o600);
  await unlink(file);
  return handle;
}

export function createSpool(options: SpoolOptions): Spool {
  const memory: Buffer[] = [];
  let inMemory = 0;
  let size = 0;
  let file: FileHandle | undefined;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    memory.length = 0;
    await file?.close();
  };

  async function* bytes(): AsyncGenerator<Buffer> {
    yield* memory;
    if (file) yield* file.createReadStream({ start: 0, autoClose: false }) as AsyncIterable<Buffer>;
  }

  return {
    write: async (chunk) => {
      size += chunk.byteLength;
      if (size > options.maxBytes) throw options.tooLarge();
      const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (!file && inMemory + buffer.length <= options.memoryBytes) {
        memory.push(buffer);
        inMemory += buffer.length;
        return;
      }
      file ??= await unlinkedFile(options.directory ?? tmpdir());
      await file.write(buffer);
    },
    discard: close,
    finish: () => ({
      size,
      discard: close,
      stream: () => {
        const stream = Readable.from(bytes(), { objectMode: false });
        // Also when it is destroyed before its first read, which never starts the generator.
        stream.once('close', () => void close());
        return stream;
      },
      toBuffer: async () => {
        const parts = [...memory];
        if (file) {
          const rest = Buffer.alloc(size - inMemory);
          for (let filled = 0; filled < rest.length;) {
            const { bytesRead } = await file.read(rest, filled, rest.length - filled, filled);
            if (bytesRead === 0) break;
            filled += bytesRead;
          }
          parts.push(rest);
        }
        return Buffer.concat(parts);
      },
    }),
  };
}
