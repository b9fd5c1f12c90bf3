interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces calls into batches: the first call goes out at once (next turn of
 * the event loop); calls made while a batch is in flight wait for it and go
 * together in the next one. Under light load nothing waits; under heavy load
 * one round trip serves many calls, so the database does fewer, larger writes.
 * `flush` answers one output per input, in order.
 */
export function createBatcher<I, O>(
  flush: (items: I[]) => Promise<O[]>,
  maxSize: number,
): (item: I) => Promise<O> {
  let waiting: Waiting<I, O>[] = [];
  let busy = false;

  const drain = async (): Promise<void> => {
    busy = true;
    while (waiting.length > 0) {
      const batch = waiting.slice(0, maxSize);
      waiting = waiting.slice(batch.length);
      try {
        const outputs = await flush(batch.map((entry) => entry.item));
        batch.forEach((entry, index) => entry.resolve(outputs[index]!));
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    busy = false;
  };

  return (item) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (!busy) {
        busy = true;
        setImmediate(() => void drain());
      }
    });
}
