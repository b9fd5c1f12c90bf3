import { Gauge, type Registry } from 'prom-client';
import type { Database, Pool } from './database.ts';

/** Connections per pool and state, read at scrape time. */
export function registerPoolMetrics(registry: Registry, db: Database): void {
  const pools: Record<string, Pool> =
    db.readPool === db.pool ? { primary: db.pool } : { primary: db.pool, replica: db.readPool };
  new Gauge({
    name: 'db_pool_connections',
    help: 'PostgreSQL pool connections: total, idle, and requests waiting for one.',
    labelNames: ['pool', 'state'] as const,
    registers: [registry],
    collect() {
      for (const [name, pool] of Object.entries(pools)) {
        this.set({ pool: name, state: 'total' }, pool.totalCount);
        this.set({ pool: name, state: 'idle' }, pool.idleCount);
        this.set({ pool: name, state: 'waiting' }, pool.waitingCount);
      }
    },
  });
}
