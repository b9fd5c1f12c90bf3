import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Registry, Counter, Gauge, Histogram } from 'prom-client';

export interface ServiceMetrics {
  registry: Registry;
  httpDuration: Histogram<'service' | 'method' | 'route' | 'status'>;
}

/**
 * One registry per service: in embedded mode five services share a process,
 * and each `/metrics` must still describe only its own service.
 */
export function createServiceMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by service, method, route template and status.',
    labelNames: ['service', 'method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return { registry, httpDuration };
}
