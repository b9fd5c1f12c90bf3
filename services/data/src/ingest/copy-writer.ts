import type { Writable } from 'node:stream';

/** COPY lines are gathered into chunks this big: one write per row would cost more than the row. */
const BATCH_CHARS = 64 * 1024;

export interface CopyWriter {
  /** Adds one COPY line; returns a promise only when the batch went out and the stream asked us to wait. */
  push(line: string): Promise<void> | undefined;
  /** Writes bytes as they are (after any lines still batched); a promise only when the stream asked us to wait. */
  pushBytes(bytes: Buffer): Promise<void> | undefined;
  /** Writes what is left, ends the stream and waits until it has taken every row. */
  end(): Promise<void>;
  detach(): void;
}

/**
 * Writes COPY lines to `out`, honouring backpressure. If `out` fails (the database refused the
 * COPY, the connection dropped) every later call rejects, and `onFailure` hears it at once so the
 * reading side can stop too.
 */
export function copyWriter(out: Writable, onFailure: (error: Error) => void): CopyWriter {
  let batch = '';
  let failure: Error | undefined;
  let wake: (() => void) | undefined;

  const wakeUp = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const fail = (error: Error): void => {
    if (!failure) {
      failure = error;
      onFailure(error);
    }
    wakeUp();
  };
  const onError = (error: Error): void => fail(error);
  const onClose = (): void => {
    if (!out.writableFinished) fail(new Error('The COPY stream closed before every row was written'));
  };
  out.on('error', onError);
  out.on('close', onClose);
  out.on('drain', wakeUp);
  out.on('finish', wakeUp);

  async function until(done: () => boolean): Promise<void> {
    while (!done()) {
      if (failure) throw failure;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    if (failure) throw failure;
  }

  function write(chunk: Buffer): Promise<void> | undefined {
    if (failure) return Promise.reject(failure);
    if (out.write(chunk)) return undefined;
    return until(() => !out.writableNeedDrain);
  }

  function flush(): Promise<void> | undefined {
    const chunk = Buffer.from(batch);
    batch = '';
    return write(chunk);
  }

  return {
    push(line) {
      batch += line;
      return batch.length >= BATCH_CHARS ? flush() : undefined;
    },

    pushBytes(bytes) {
      if (batch) return flush()?.then(() => write(bytes)) ?? write(bytes);
      return write(bytes);
    },

    async end() {
      if (batch) await flush();
      if (failure) throw failure;
      out.end();
      await until(() => out.writableFinished);
    },

    detach() {
      out.off('error', onError);
      out.off('close', onClose);
      out.off('drain', wakeUp);
      out.off('finish', wakeUp);
    },
  };
}
