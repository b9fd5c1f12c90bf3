import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Gauge, type Registry } from 'prom-client';

/** A cgroup file's first line, or undefined outside a container (or on cgroup v1 without it). */
function cgroupValue(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').split('\n')[0]?.trim();
  } catch {
    return undefined;
  }
}

/** The container's memory limit (cgroup v2, then v1); the machine's memory when unlimited. */
export function memoryLimitBytes(): number {
  const raw =
    cgroupValue('/sys/fs/cgroup/memory.max') ?? cgroupValue('/sys/fs/cgroup/memory/memory.limit_in_bytes');
  const limit = raw && /^\d+$/.test(raw) ? Number(raw) : Infinity;
  return Math.min(limit, os.totalmem());
}

/** The container's CPU quota in cores (cgroup v2 `cpu.max`); the machine's cores when unlimited. */
export function cpuLimitCores(): number {
  const cores = os.availableParallelism();
  const [quota, period] = (cgroupValue('/sys/fs/cgroup/cpu.max') ?? 'max').split(' ');
  if (!quota || quota === 'max' || !period) return cores;
  return Math.min(cores, Number(quota) / Number(period));
}

/**
 * What the memory and CPU alerts divide by: the seed's "memory > 80%" and
 * "CPU > 70%" are shares of what this process may use, which only it can read
 * from its cgroup. Constant for the life of the process.
 */
export function registerLimitMetrics(registry: Registry): void {
  new Gauge({
    name: 'process_memory_limit_bytes',
    help: 'Memory this process may use: its container limit, else the machine memory.',
    registers: [registry],
  }).set(memoryLimitBytes());
  new Gauge({
    name: 'process_cpu_limit_cores',
    help: 'CPU cores this process may use: its container quota, else the machine cores.',
    registers: [registry],
  }).set(cpuLimitCores());
}

/** The nearest existing directory at or above `dir` (a data dir may not exist yet). */
function existingAncestor(dir: string): string {
  let current = path.resolve(dir);
  for (;;) {
    try {
      statfsSync(current);
      return current;
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

/** Free and total bytes of the filesystem holding `dir` (the data directory), read when scraped. */
export function registerDiskMetrics(registry: Registry, dir: string): void {
  const target = existingAncestor(dir);
  const read = (): { free: number; size: number } => {
    const stats = statfsSync(target);
    return { free: stats.bavail * stats.bsize, size: stats.blocks * stats.bsize };
  };
  new Gauge({
    name: 'disk_free_bytes',
    help: 'Bytes free (for unprivileged users) on the filesystem of the data directory.',
    registers: [registry],
    collect() {
      this.set(read().free);
    },
  });
  new Gauge({
    name: 'disk_size_bytes',
    help: 'Size in bytes of the filesystem of the data directory.',
    registers: [registry],
    collect() {
      this.set(read().size);
    },
  });
}
