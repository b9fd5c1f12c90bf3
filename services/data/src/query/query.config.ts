import { f, type ConfigOf } from '@datalab/platform';

/** The query feature's settings; the data-service's config schema spreads these in. */
export const queryConfigSchema = {
  queryTimeoutMs: f.integer(
    'QUERY_TIMEOUT_MS',
    'Longest one query step may run (and a reader may pause) before PostgreSQL stops it.',
    30_000,
    100,
    3_600_000,
  ),
  queryMaxRows: f.integer(
    'QUERY_MAX_ROWS',
    'Most rows a query answers; an answer cut there says truncated.',
    100_000,
    1,
    100_000_000,
  ),
  queryCacheTtlSeconds: f.integer(
    'QUERY_CACHE_TTL_SECONDS',
    'How long a query answer stays in the cache; 0 turns the query cache off.',
    300,
    0,
    86_400 * 30,
  ),
  queryCatalogCacheMs: f.integer(
    'QUERY_CATALOG_CACHE_MS',
    "How long a query may reuse a dataset's metadata (owner, visibility, version) read by an earlier one; a write through any replica ends it at once. 0 reads it every time.",
    1000,
    0,
    60_000,
  ),
  queryCacheMaxEntryBytes: f.integer(
    'QUERY_CACHE_MAX_ENTRY_BYTES',
    'Largest query answer kept in the cache; bigger answers are streamed and not cached.',
    8 * 1024 * 1024,
    0,
  ),
};

export type QueryConfig = ConfigOf<typeof queryConfigSchema>;
