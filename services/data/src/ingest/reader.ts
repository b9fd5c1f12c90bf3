import type { Readable } from 'node:stream';

/**
 * Pulls the upload's bytes without taking the stream over: the caller still owns it, and after
 * `release` can drain or destroy it. A `for await` over the stream would destroy it when we stop
 * early, and a pending iteration would keep a 'readable' listener that makes `resume()` a no-op.
 */
export interface ByteReader {
  /** At least `size` bytes from the start (fewer only when the file is shorter); `chunks` yields them again. */
  peek(size: number): Promise<Buffer>;
  /** Every byte of the upload, from the start, as it arrives. */
  chunks(): AsyncGenerator<Buffer>;
  /** Makes the pending and every later pull reject with `error` (the COPY failed while we wait for the client). */
  fail(error: Error): void;
  /** Why pulling stopped, if it did: the upload's own error, or the one given to `fail`. */
  failure(): Error | undefined;
  release(): void;
}

export function byteReader(input: Readable): ByteReader {
  let ended = input.readableEnded;
  let failure: Error | undefined = input.errored ?? undefined;
  let wake: (() => void) | undefined;
  const peeked: Buffer[] = [];
  let peekedBytes = 0;

  const wakeUp = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const onEnd = (): void => {
    ended = true;
    wakeUp();
  };
  const onError = (error: Error): void => {
    failure ??= error;
    wakeUp();
  };
  const onClose = (): void => {
    if (!ended) failure ??= new Error('The upload was cut off before the end of the file');
    wakeUp();
  };
  input.on('readable', wakeUp);
  input.on('end', onEnd);
  input.on('error', onError);
  input.on('close', onClose);

  async function next(): Promise<Buffer | null> {
    for (;;) {
      if (failure) throw failure;
      const chunk = input.read() as Buffer | string | null;
      if (chunk !== null) return typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (ended) return null;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  }

  return {
    async peek(size) {
      while (peekedBytes < size) {
        const chunk = await next();
        if (chunk === null) break;
        peeked.push(chunk);
        peekedBytes += chunk.length;
      }
      return Buffer.concat(peeked, peekedBytes);
    },

    async *chunks() {
      while (peeked.length > 0) yield peeked.shift()!;
      for (let chunk = await next(); chunk !== null; chunk = await next()) yield chunk;
    },

    fail(error) {
      failure ??= error;
      wakeUp();
    },

    failure: () => failure,

    release() {
      input.off('readable', wakeUp);
      input.off('end', onEnd);
      input.off('error', onError);
      input.off('close', onClose);
    },
  };
}
