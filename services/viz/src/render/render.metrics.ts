import { Counter, Histogram, type ServiceMetrics } from '@datalab/platform';

export interface RenderMetrics {
  /** Starts timing a render; call the result once the bytes are ready. */
  start: (format: string) => () => void;
  cacheLookup: (result: 'hit' | 'miss' | 'not_modified') => void;
  bytesOut: (format: string, bytes: number) => void;
}

/** Reuses metrics already on the registry: two apps built on one registry (tests) must not collide. */
function existing<T>(metrics: ServiceMetrics, name: string): T | undefined {
  return metrics.registry.getSingleMetric(name) as T | undefined;
}

export function createRenderMetrics(metrics: ServiceMetrics): RenderMetrics {
  const registers = [metrics.registry];
  const duration =
    existing<Histogram<'format'>>(metrics, 'viz_render_duration_seconds') ??
    new Histogram({
      name: 'viz_render_duration_seconds',
      help: 'Time to render a chart or dashboard (data fetch included, cache hits excluded), by format.',
      labelNames: ['format'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers,
    });
  const cache =
    existing<Counter<'result'>>(metrics, 'viz_render_cache_total') ??
    new Counter({
      name: 'viz_render_cache_total',
      help: 'Render cache lookups by result (hit|miss|not_modified); the hit ratio is (hit+not_modified)/all.',
      labelNames: ['result'] as const,
      registers,
    });
  const bytes =
    existing<Counter<'format'>>(metrics, 'viz_render_bytes_total') ??
    new Counter({
      name: 'viz_render_bytes_total',
      help: 'Bytes of rendered images sent, by format (cache hits included).',
      labelNames: ['format'] as const,
      registers,
    });
  return {
    start: (format) => {
      const end = duration.startTimer({ format });
      return () => void end();
    },
    cacheLookup: (result) => cache.inc({ result }),
    bytesOut: (format, count) => bytes.inc({ format }, count),
  };
}
