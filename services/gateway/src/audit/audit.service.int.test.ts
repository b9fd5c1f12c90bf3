import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  createServiceMetrics,
  migrate,
  type Database,
  type ServiceMetrics,
} from '@datalab/platform';
import { silentLogger, testDatabase } from '../../../../test/helpers.ts';
import type { RequestEntry } from './audit.entries.ts';
import { createAuditLog, type AuditLogOptions } from './audit.service.ts';

const GATEWAY_MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

function entry(status = 200): RequestEntry {
  return {
    at: new Date(),
    principal: undefined,
    ip: '127.0.0.1',
    method: 'GET',
    route: '/api/v1/viz/charts/:id',
    path: '/api/v1/viz/charts/x',
    status,
    latencyMs: 1.5,
    requestId: `audit-${randomUUID()}`,
    resourceId: undefined,
  };
}

async function counted(metrics: ServiceMetrics, name: string, labels: Record<string, string> = {}) {
  const values = (await metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  const match = values.find((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value));
  return match?.value ?? 0;
}

describe('the audit log service', () => {
  let db: Database;

  beforeAll(async () => {
    db = await testDatabase();
    await migrate(db.pool, { schema: 'auth', directory: GATEWAY_MIGRATIONS, logger: silentLogger });
  });
  afterAll(async () => {
    await db.close();
  });

  function auditLogWith(options: Partial<AuditLogOptions> = {}) {
    const metrics = createServiceMetrics('api-gateway');
    const auditLog = createAuditLog({
      pool: db.pool,
      logger: silentLogger,
      metrics,
      flushIntervalMs: 60_000,
      maxBatch: 500,
      maxBuffer: 10_000,
      retentionDays: 0,
      ...options,
    });
    return { auditLog, metrics };
  }

  async function stored(requestIds: string[]): Promise<number> {
    const result = await db.pool.query('SELECT 1 FROM audit.events WHERE request_id = ANY($1)', [requestIds]);
    return result.rowCount ?? 0;
  }

  it('writes a full batch without waiting for the interval, and the rest when it closes', async () => {
    const { auditLog, metrics } = auditLogWith({ maxBatch: 3 });
    const batch = [entry(), entry(), entry()];
    const rest = [entry(), entry()];

    for (const e of batch) auditLog.recordRequest(e);
    await expect.poll(() => stored(batch.map((e) => e.requestId))).toBe(3);
    for (const e of rest) auditLog.recordRequest(e);

    expect(await stored(rest.map((e) => e.requestId))).toBe(0);
    await auditLog.close();
    expect(await stored(rest.map((e) => e.requestId))).toBe(2);
    expect(await counted(metrics, 'gateway_audit_written_total')).toBe(5);
  });

  it('drops a row PostgreSQL refuses without losing the rest of its batch', async () => {
    const { auditLog, metrics } = auditLogWith();
    const good = [entry(), entry()];
    const impossible = entry(999);

    for (const e of [good[0]!, impossible, good[1]!]) auditLog.recordRequest(e);
    await auditLog.flush();

    expect(await stored(good.map((e) => e.requestId))).toBe(2);
    expect(await stored([impossible.requestId])).toBe(0);
    expect(await counted(metrics, 'gateway_audit_dropped_total', { reason: 'refused' })).toBe(1);
    await auditLog.close();
  });

  it('keeps at most maxBuffer rows while PostgreSQL is unreachable, counting and reporting the rest', async () => {
    const unreachable = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
    const lines: string[] = [];
    const logger = createLogger({
      level: 'warn',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    });
    const { auditLog, metrics } = auditLogWith({ pool: unreachable, logger, maxBuffer: 3 });

    await auditLog.recordSecurityEvent({ action: 'login.failed', detail: { email: 'who@example.test' } });
    for (let i = 0; i < 5; i++) auditLog.recordRequest(entry());
    await auditLog.flush();

    expect(await counted(metrics, 'gateway_audit_dropped_total', { reason: 'buffer_full' })).toBe(3);
    expect(await counted(metrics, 'gateway_audit_written_total')).toBe(0);
    expect(lines.filter((line) => line.includes('audit buffer full'))).toHaveLength(1);
    await auditLog.close();
    expect(lines.some((line) => line.includes('audit rows not written before shutdown'))).toBe(true);
    await unreachable.end();
  });

  it('refuses, in the database itself, to change, delete or truncate audit rows', async () => {
    const { auditLog } = auditLogWith();
    const requestId = `audit-${randomUUID()}`;
    await auditLog.recordSecurityEvent({ action: 'logout', requestId });
    const client = await db.pool.connect();
    const refused = async (sql: string) => {
      // In a transaction rolled back afterwards, so a broken guard could not harm rows of other tests.
      await client.query('BEGIN');
      try {
        return await client.query(sql, sql.includes('$1') ? [requestId] : []).then(
          () => 'allowed',
          (error: Error) => error.message,
        );
      } finally {
        await client.query('ROLLBACK');
      }
    };

    try {
      expect(
        await refused("UPDATE audit.events SET action = 'login.succeeded' WHERE request_id = $1"),
      ).toMatch(/append-only: UPDATE refused/);
      expect(await refused('DELETE FROM audit.events WHERE request_id = $1')).toMatch(
        /append-only: DELETE refused/,
      );
      expect(await refused('TRUNCATE audit.events')).toMatch(/append-only: TRUNCATE refused/);
    } finally {
      client.release();
    }
    expect(await stored([requestId])).toBe(1);
    await auditLog.close();
  });

  it('removes with retention only the rows older than the setting, and nothing when it is 0', async () => {
    const [old, recent] = [`audit-${randomUUID()}`, `audit-${randomUUID()}`];
    await db.pool.query(
      `INSERT INTO audit.events (at, kind, action, request_id)
       VALUES (now() - interval '91 days', 'security', 'logout', $1),
              (now() - interval '89 days', 'security', 'logout', $2)`,
      [old, recent],
    );
    const forever = auditLogWith({ retentionDays: 0 }).auditLog;
    const ninetyDays = auditLogWith({ retentionDays: 90 }).auditLog;

    expect(await forever.applyRetention()).toBe(0);
    expect(await stored([old, recent])).toBe(2);
    await ninetyDays.applyRetention();
    expect(await stored([old])).toBe(0);
    expect(await stored([recent])).toBe(1);
    await Promise.all([forever.close(), ninetyDays.close()]);
  });
});
