import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerLimitMetrics } from './resource-metrics.ts';

export { Registry, Counter, Gauge, Histogram } from 'prom-client';
export { registerDiskMetrics } from './resource-metrics.ts';

/** The window of the `active_users` gauge. */
const ACTIVE_WINDOW_MS = 5 * 60_000;

export interface ServiceMetrics {
  registry: Registry;
  httpDuration: Histogram<'service' | 'method' | 'route' | 'status'>;
  /** Counts `userId` as active now (for the `active_users` gauge). */
  seenUser: (userId: string) => void;
}

/**
 * One registry per service: in embedded mode five services share a process,
 * and each `/metrics` must still describe only its own service.
 */
export function createServiceMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  registerLimitMetrics(registry);
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by service, method, route template and status.',
    labelNames: ['service', 'method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const lastSeen = new Map<string, number>();
  new Gauge({
    name: 'active_users',
    help: 'Distinct signed-in callers this instance served in the last 5 minutes.',
    registers: [registry],
    collect() {
      const since = Date.now() - ACTIVE_WINDOW_MS;
      for (const [user, at] of lastSeen) if (at < since) lastSeen.delete(user);
      this.set(lastSeen.size);
    },
  });
  return { registry, httpDuration, seenUser: (userId) => void lastSeen.set(userId, Date.now()) };
}
