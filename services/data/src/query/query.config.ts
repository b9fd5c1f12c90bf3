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
  queryMaxAnswerBytes: f.integer(
    'QUERY_MAX_ANSWER_BYTES',
    'Most bytes one query answer or page of rows may have, as read from PostgreSQL and as encoded; a bigger one is refused with 413. Also the largest row an export or a data job reads.',
    64 * 1024 * 1024,
    1024,
    1024 * 1024 * 1024,
  ),
  queryExportMaxBytes: f.integer(
    'QUERY_EXPORT_MAX_BYTES',
    'Most bytes one dataset export may have; a bigger one is refused with 413. Exports are spooled (memory, then a temporary file under TMPDIR) before they are sent.',
    2 * 1024 * 1024 * 1024,
    1024,
  ),
  querySpoolMemoryBytes: f.integer(
    'QUERY_SPOOL_MEMORY_BYTES',
    'How much of one answer or export is held in memory before the rest is spooled to a temporary file; answers are read whole before they are sent, so a slow client never holds a database connection.',
    8 * 1024 * 1024,
    0,
  ),
  queryTempFileBytes: f.integer(
    'QUERY_TEMP_FILE_BYTES',
    'PostgreSQL temporary file space one query on the query login may use (temp_file_limit: sorts and hashes past work_mem); a query that needs more is refused with 413. The login needs `GRANT SET ON PARAMETER temp_file_limit`.',
    2 * 1024 * 1024 * 1024,
    0,
    1024 * 1024 * 1024 * 1024,
  ),
  queryWorkMemBytes: f.integer(
    'QUERY_WORK_MEM_BYTES',
    'PostgreSQL memory one sort or hash of a query may use before it spills to temporary files (work_mem).',
    32 * 1024 * 1024,
    64 * 1024,
    2 * 1024 * 1024 * 1024 - 1024,
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
  queryCatalogCacheBytes: f.integer(
    'QUERY_CATALOG_CACHE_BYTES',
    'Most memory the remembered dataset metadata may take (estimated from its JSON size); the least recently used goes first.',
    16 * 1024 * 1024,
    0,
  ),
  queryGuardMemoBytes: f.integer(
    'QUERY_GUARD_MEMO_BYTES',
    'Most memory the SQL guard may use to remember SQL it already accepted (text and parse tree, estimated from their size); the least recently used goes first.',
    16 * 1024 * 1024,
    0,
  ),
  queryCacheMaxEntryBytes: f.integer(
    'QUERY_CACHE_MAX_ENTRY_BYTES',
    'Largest query answer kept in the cache; bigger answers are sent and not kept.',
    8 * 1024 * 1024,
    0,
  ),
};

export type QueryConfig = ConfigOf<typeof queryConfigSchema>;
