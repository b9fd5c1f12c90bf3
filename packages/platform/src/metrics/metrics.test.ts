import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { createServiceMetrics, registerDiskMetrics } from './metrics.ts';
import { cpuLimitCores, memoryLimitBytes } from './resource-metrics.ts';

async function value(metrics: ReturnType<typeof createServiceMetrics>, name: string): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  return (await metric.get()).values[0]!.value;
}

describe('service metrics', () => {
  it('counts each signed-in caller once in active_users', async () => {
    const metrics = createServiceMetrics('data-service');
    metrics.seenUser('alice');
    metrics.seenUser('bob');
    metrics.seenUser('alice');

    expect(await value(metrics, 'active_users')).toBe(2);
  });

  it('publishes the memory and CPU this process may use, never more than the machine has', async () => {
    const metrics = createServiceMetrics('ai-service');

    expect(await value(metrics, 'process_memory_limit_bytes')).toBe(memoryLimitBytes());
    expect(memoryLimitBytes()).toBeGreaterThan(0);
    expect(memoryLimitBytes()).toBeLessThanOrEqual(os.totalmem());
    expect(await value(metrics, 'process_cpu_limit_cores')).toBe(cpuLimitCores());
    expect(cpuLimitCores()).toBeGreaterThan(0);
    expect(cpuLimitCores()).toBeLessThanOrEqual(os.availableParallelism());
  });

  it('reads the free and total space of the data directory, even before it exists', async () => {
    const metrics = createServiceMetrics('viz-service');
    registerDiskMetrics(metrics.registry, `${os.tmpdir()}/not-created-yet/datalab`);

    const free = await value(metrics, 'disk_free_bytes');
    const size = await value(metrics, 'disk_size_bytes');
    expect(size).toBeGreaterThan(0);
    expect(free).toBeGreaterThan(0);
    expect(free).toBeLessThanOrEqual(size);
  });
});
