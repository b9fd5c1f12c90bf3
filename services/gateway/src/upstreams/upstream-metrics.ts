import { Counter, Gauge, Histogram, type ServiceMetrics } from '@datalab/platform';
import type { Upstreams } from './upstreams.ts';

export interface UpstreamMetrics {
  observe: (upstream: string, outcome: 'ok' | 'error' | 'unreachable', startedAt: number) => void;
}

/** Per-upstream traffic (calls, outcomes, time to first byte) and healthy instances. */
export function createUpstreamMetrics(metrics: ServiceMetrics, upstreams: Upstreams): UpstreamMetrics {
  const calls = new Counter({
    name: 'gateway_upstream_requests_total',
    help: 'Requests the gateway sent upstream, by upstream and outcome (ok, error = 5xx, unreachable).',
    labelNames: ['upstream', 'outcome'] as const,
    registers: [metrics.registry],
  });
  const latency = new Histogram({
    name: 'gateway_upstream_response_seconds',
    help: 'Time until an upstream answered with its headers.',
    labelNames: ['upstream'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [metrics.registry],
  });
  new Gauge({
    name: 'gateway_upstream_healthy_instances',
    help: 'Instances of each upstream that passed their last health check.',
    labelNames: ['upstream'] as const,
    registers: [metrics.registry],
    collect() {
      for (const service of upstreams.list()) {
        this.set({ upstream: service.name }, service.instances.filter((i) => i.state === 'healthy').length);
      }
    },
  });
  return {
    observe: (upstream, outcome, startedAt) => {
      calls.inc({ upstream, outcome });
      latency.observe({ upstream }, (performance.now() - startedAt) / 1000);
    },
  };
}
