import { f, type ConfigOf } from '@datalab/platform';

export const vizConfigSchema = {
  dataServiceUrl: f.url(
    'VIZ_DATA_SERVICE_URL',
    'data-service the viz-service fetches chart data from when the registry lists no instance.',
    'http://127.0.0.1:8001',
    ['http', 'https'],
  ),
  renderMaxRows: f.integer(
    'VIZ_RENDER_MAX_ROWS',
    'Most data rows one render may read (all sources together); more is refused with 413.',
    100_000,
    1,
    10_000_000,
  ),
  renderMaxMarks: f.integer(
    'VIZ_RENDER_MAX_MARKS',
    'Most mark items (points, bars, text, ...) one render may draw; more is refused with 413.',
    200_000,
    1,
    10_000_000,
  ),
  renderMaxPixels: f.integer(
    'VIZ_RENDER_MAX_PIXELS',
    'Largest raster output (width × height × scale², in pixels) a render may produce.',
    40_000_000,
    1,
  ),
  renderTimeoutMs: f.integer(
    'VIZ_RENDER_TIMEOUT_MS',
    'Longest one render may run in its thread before the thread is stopped and the call answered 503.',
    20_000,
    100,
    600_000,
  ),
  renderWorkers: f.integer(
    'VIZ_RENDER_WORKERS',
    'Render threads (Vega, resvg, PDFKit run off the event loop); renders beyond that wait in line.',
    2,
    1,
    64,
  ),
  renderWorkerMemoryMb: f.integer(
    'VIZ_RENDER_WORKER_MEMORY_MB',
    'Heap of each render thread; a render needing more is stopped with 413 and the thread replaced.',
    512,
    64,
    16_384,
  ),
  renderCacheTtlSeconds: f.integer(
    'VIZ_RENDER_CACHE_TTL_SECONDS',
    'How long rendered bytes stay in the cache (Redis, or memory in embedded mode); 0 turns it off.',
    3600,
    0,
    86_400 * 30,
  ),
  renderCacheMaxEntryBytes: f.integer(
    'VIZ_RENDER_CACHE_MAX_ENTRY_BYTES',
    'Largest render kept in the cache; bigger ones are rendered each time.',
    8 * 1024 * 1024,
    0,
  ),
  renderLocalCacheMb: f.integer(
    'VIZ_RENDER_LOCAL_CACHE_MB',
    'Memory per process holding recently served renders in front of Redis (entries are keyed by content, so never stale); 0 turns it off.',
    64,
    0,
    16_384,
  ),
  datasetVersionTtlMs: f.integer(
    'VIZ_DATASET_VERSION_TTL_MS',
    "How long a dataset's owner, visibility and version are remembered between data-service lookups (forgotten at once on the data-service's dataset-changed event); 0 asks every time.",
    2000,
    0,
    60_000,
  ),
  chartTtlMs: f.integer(
    'VIZ_CHART_TTL_MS',
    'How long a saved chart or dashboard is remembered between PostgreSQL reads (forgotten at once on every instance when one is changed or deleted); 0 reads every time.',
    2000,
    0,
    60_000,
  ),
};

export type VizConfig = ConfigOf<typeof vizConfigSchema>;
