import { f, type ConfigOf } from '@datalab/platform';

const MB = 1024 * 1024;

/**
 * The DuckDB engine's settings; the data-service's config schema spreads these in.
 * The engine's memory and spill budgets are split evenly between its query slots,
 * so the slots together never hold more than the totals.
 */
export const engineConfigSchema = {
  engineMemoryMb: f.integer(
    'DATA_ENGINE_MEMORY_MB',
    'DuckDB memory for all queries and writes of this process together; each of the DATA_ENGINE_SLOTS gets an equal share and spills to disk past it.',
    1024,
    64,
    1024 * 1024,
  ),
  engineSlots: f.integer(
    'DATA_ENGINE_SLOTS',
    'Queries and writes DuckDB runs at once in this process; the rest wait in line.',
    4,
    1,
    256,
  ),
  engineQueueLength: f.integer(
    'DATA_ENGINE_QUEUE_LENGTH',
    'Queries that may wait for a slot; past that a query is refused at once as busy (503 with Retry-After).',
    64,
    0,
    100_000,
  ),
  engineThreads: f.integer('DATA_ENGINE_THREADS', 'Threads one query or write may use.', 2, 1, 256),
  engineTempMb: f.integer(
    'DATA_ENGINE_TEMP_MB',
    'Disk DuckDB may spill to for all slots together, under DATALAB_DATA_DIR; a query that needs more fails as too large.',
    10_240,
    0,
    1024 * 1024 * 1024,
  ),
  engineInstances: f.integer(
    'DATA_ENGINE_INSTANCES',
    'DuckDB instances kept open for the sets of datasets queried last, so a repeated query skips the set-up; at least DATA_ENGINE_SLOTS are kept.',
    16,
    1,
    1024,
  ),
  engineMaxAnswerBytes: f.integer(
    'DATA_ENGINE_MAX_ANSWER_BYTES',
    "Largest answer a query may produce, counted in DuckDB's own bytes before any value reaches JavaScript; a bigger one is refused as too large.",
    256 * MB,
    1024,
  ),
  engineGuardMemoBytes: f.integer(
    'DATA_ENGINE_GUARD_MEMO_BYTES',
    'Memory for remembering SQL the guard already accepted (text and result); 0 turns the memo off.',
    8 * MB,
    0,
  ),
};

export type EngineConfig = ConfigOf<typeof engineConfigSchema>;
