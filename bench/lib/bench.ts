/** What `npm run bench -- <name> [options]` hands to `bench/<name>/run.ts`. */
export interface BenchContext {
  /** The options after the bench's name. */
  args: string[];
  /** The environment, read once by the entry point. */
  env: Record<string, string | undefined>;
}

/** Every `bench/<name>/run.ts` exports these. */
export interface Bench {
  description: string;
  run: (context: BenchContext) => Promise<void>;
}
