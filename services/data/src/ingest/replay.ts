/**
 * A stream of chunks that can be read twice from the start: once by the sampler (csv-parse, to
 * decide the columns) and again, whole, by the CSV fast path. Only what the sampler read is kept,
 * and only up to a bound; past it the fast path is simply not taken.
 */
export interface Replayable {
  /** For the sampler: keeps what it reads; ending its iteration leaves the source open. */
  first: AsyncIterable<Buffer>;
  /** Everything `first` read is still kept. */
  readonly replayable: boolean;
  /** From the start: the kept chunks, then the rest of the source. */
  all(): AsyncGenerator<Buffer>;
  /** Stops keeping chunks (the general path reads on through `first`). */
  forget(): void;
}

/** More than this read for the sample (rows of megabytes each) is not kept. */
const MAX_KEPT_BYTES = 64 * 1024 * 1024;

export function replayable(source: AsyncIterable<Buffer>): Replayable {
  const upstream = source[Symbol.asyncIterator]();
  let kept: Buffer[] | undefined = [];
  let keptBytes = 0;
  const forget = (): void => {
    kept = undefined;
  };
  return {
    first: {
      [Symbol.asyncIterator]: () => ({
        async next() {
          const next = await upstream.next();
          if (!next.done && kept) {
            kept.push(next.value);
            keptBytes += next.value.length;
            if (keptBytes > MAX_KEPT_BYTES) forget();
          }
          return next;
        },
        return: async () => ({ done: true as const, value: undefined }),
      }),
    },
    get replayable() {
      return kept !== undefined;
    },
    async *all() {
      const chunks = kept ?? [];
      kept = undefined;
      yield* chunks;
      for (let next = await upstream.next(); !next.done; next = await upstream.next()) yield next.value;
    },
    forget,
  };
}
