import { Counter, Histogram, type ServiceMetrics } from '@datalab/platform';

export type QueryKind = 'sql' | 'structured';

export interface QueryMetrics {
  /** Starts timing a query; call the result with whether the answer came from the cache. */
  start: (kind: QueryKind) => (cached: boolean) => void;
  cacheLookup: (hit: boolean) => void;
}

/** Reuses metrics already on the registry: two apps built on one registry (tests) must not collide. */
function existing<T>(metrics: ServiceMetrics, name: string): T | undefined {
  return metrics.registry.getSingleMetric(name) as T | undefined;
}

export function createQueryMetrics(metrics: ServiceMetrics): QueryMetrics {
  const duration =
    existing<Histogram<'kind' | 'cached'>>(metrics, 'data_query_duration_seconds') ??
    new Histogram({
      name: 'data_query_duration_seconds',
      help: 'Time to answer a query, until the whole answer is ready to send, by kind (sql|structured) and whether it came from the cache.',
      labelNames: ['kind', 'cached'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [metrics.registry],
    });
  const cache =
    existing<Counter<'result'>>(metrics, 'data_query_cache_total') ??
    new Counter({
      name: 'data_query_cache_total',
      help: 'Query cache lookups by result (hit|miss).',
      labelNames: ['result'] as const,
      registers: [metrics.registry],
    });
  return {
    start: (kind) => {
      const end = duration.startTimer({ kind });
      return (cached) => void end({ cached: String(cached) });
    },
    cacheLookup: (hit) => cache.inc({ result: hit ? 'hit' : 'miss' }),
  };
}
