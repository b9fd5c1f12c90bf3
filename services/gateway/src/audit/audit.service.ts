import { AppError, Counter, type Logger, type Pool, type ServiceMetrics } from '@datalab/platform';
import {
  eventView,
  requestRow,
  securityRow,
  type RequestEntry,
  type SecurityEvent,
} from './audit.entries.ts';
import { deleteOlderThan, findEvents, insertEvents, type NewAuditEvent } from './audit.repository.ts';
import { MAX_PAGE, type AuditPage, type AuditQuery } from './audit.schemas.ts';

export interface AuditLogOptions {
  pool: Pool;
  logger: Logger;
  metrics: ServiceMetrics;
  flushIntervalMs: number;
  maxBatch: number;
  /** Most rows held while PostgreSQL is unreachable; more are dropped and counted. */
  maxBuffer: number;
  /** 0 keeps rows forever. */
  retentionDays: number;
}

export interface AuditLog {
  /** Buffers the row; it is written with the next batch. */
  recordRequest(entry: RequestEntry): void;
  /** Writes the row at once; if PostgreSQL cannot take it, it waits in the buffer instead of failing the caller. */
  recordSecurityEvent(event: SecurityEvent): Promise<void>;
  /** Writes everything buffered (stops early, keeping the rest, when PostgreSQL is unreachable). */
  flush(): Promise<void>;
  /** Deletes rows older than the retention setting; returns how many. */
  applyRetention(): Promise<number>;
  query(filters: AuditQuery): Promise<AuditPage>;
  close(): Promise<void>;
}

const RETENTION_EVERY_MS = 60 * 60 * 1000;
// Not at start-up, which stays quick; but soon after, so a gateway restarted more often than hourly still prunes.
const RETENTION_FIRST_AFTER_MS = 60 * 1000;
const RETENTION_BATCH = 5000;
const DEFAULT_PAGE = 100;

/** PostgreSQL refused the values themselves (class 22 data, 23 constraint): retrying cannot help. */
function isRefusedData(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

function counter(metrics: ServiceMetrics, name: string, help: string, labelNames: string[] = []): Counter {
  // A second audit log on the same registry (an app rebuilt in one process) shares the counters.
  const existing = metrics.registry.getSingleMetric(name);
  return (
    (existing as Counter | undefined) ??
    new Counter({ name, help, labelNames, registers: [metrics.registry] })
  );
}

/**
 * The audit log. API calls are buffered and written in batches, so auditing
 * every call does not cost a database round trip per call; security events
 * are written at once. While PostgreSQL is unreachable the buffer holds at
 * most `maxBuffer` rows and counts what it has to drop.
 */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { pool, logger, maxBatch, maxBuffer, retentionDays } = options;
  const written = counter(
    options.metrics,
    'gateway_audit_written_total',
    'Audit rows written to PostgreSQL.',
  );
  const dropped = counter(
    options.metrics,
    'gateway_audit_dropped_total',
    'Audit rows lost: buffer_full while PostgreSQL was unreachable, refused when PostgreSQL rejected the row.',
    ['reason'],
  );
  const buffer: NewAuditEvent[] = [];
  let inFlight: Promise<void> | undefined;
  // After a failed write only the timer retries, so a database outage does not turn every call into a
  // retry, and the outage is logged once when it starts and once when it ends.
  let failing = false;
  let droppedWhileFull = 0;
  let retentionRun: Promise<unknown> | undefined;

  function enqueue(row: NewAuditEvent): void {
    if (buffer.length >= maxBuffer) {
      dropped.inc({ reason: 'buffer_full' });
      // One warning per outage, not one per call.
      if (droppedWhileFull++ === 0)
        logger.warn({ maxBuffer }, 'audit buffer full: dropping audit rows until PostgreSQL accepts writes');
      return;
    }
    buffer.push(row);
    if (buffer.length >= maxBatch && !failing && !inFlight) void flush();
  }

  /** Writes `batch`; returns how many rows from its front are settled (written, or refused and dropped). */
  async function writeBatch(batch: NewAuditEvent[]): Promise<number> {
    try {
      await insertEvents(pool, batch);
      written.inc(batch.length);
      return batch.length;
    } catch (error) {
      if (!isRefusedData(error)) {
        if (!failing)
          logger.warn({ err: error, buffered: buffer.length }, 'audit rows not written; will retry');
        return 0;
      }
      if (batch.length === 1) {
        dropped.inc({ reason: 'refused' });
        logger.error({ err: error, row: batch[0] }, 'PostgreSQL refused an audit row; dropped');
        return 1;
      }
      // One bad row must not cost the others theirs: write the batch row by row.
      for (const [index, row] of batch.entries()) {
        if ((await writeBatch([row])) === 0) return index;
      }
      return batch.length;
    }
  }

  async function drain(): Promise<void> {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, maxBatch);
      const settled = await writeBatch(batch);
      buffer.splice(0, settled);
      if (settled < batch.length) {
        failing = true;
        return;
      }
    }
    if (failing) logger.info({ dropped: droppedWhileFull }, 'audit log writing again');
    failing = false;
    droppedWhileFull = 0;
  }

  async function flush(): Promise<void> {
    while (inFlight) await inFlight;
    if (buffer.length === 0) return;
    inFlight = drain().finally(() => {
      inFlight = undefined;
    });
    await inFlight;
  }

  async function applyRetention(): Promise<number> {
    if (retentionDays === 0) return 0;
    const deleted = await deleteOlderThan(pool, retentionDays, RETENTION_BATCH);
    if (deleted > 0) logger.info({ deleted, retentionDays }, 'audit retention deleted old rows');
    return deleted;
  }

  function scheduledRetention(): void {
    retentionRun ??= applyRetention()
      .catch((error: unknown) => logger.warn({ err: error }, 'audit retention failed; next try in an hour'))
      .finally(() => {
        retentionRun = undefined;
      });
  }

  // Unref'd: the timers never keep a process alive; close() writes what is left.
  const flushTimer = setInterval(() => {
    if (!inFlight && buffer.length > 0) void flush();
  }, options.flushIntervalMs);
  flushTimer.unref();
  const retentionTimers =
    retentionDays > 0
      ? [
          setTimeout(scheduledRetention, RETENTION_FIRST_AFTER_MS),
          setInterval(scheduledRetention, RETENTION_EVERY_MS),
        ]
      : [];
  for (const timer of retentionTimers) timer.unref();

  return {
    recordRequest: (entry) => enqueue(requestRow(entry)),
    async recordSecurityEvent(event) {
      const row = securityRow(event);
      if ((await writeBatch([row])) > 0) return;
      failing = true;
      enqueue(row);
    },
    flush,
    applyRetention,
    async query(filters) {
      const from = filters.from === undefined ? undefined : new Date(filters.from);
      const to = filters.to === undefined ? undefined : new Date(filters.to);
      if (from && to && from > to) {
        throw new AppError('invalid', '`from` must not be after `to`', {
          errors: [{ field: '/querystring/from', message: 'must not be after to' }],
        });
      }
      const limit = Math.min(filters.limit ?? DEFAULT_PAGE, MAX_PAGE);
      const rows = await findEvents(pool, {
        from,
        to,
        userId: filters.user_id,
        kind: filters.kind,
        action: filters.action,
        method: filters.method?.toUpperCase(),
        status: filters.status,
        routePrefix: filters.route_prefix,
        requestId: filters.request_id,
        before: filters.before,
        // One more than asked tells whether another page follows.
        limit: limit + 1,
      });
      const events = rows.slice(0, limit).map(eventView);
      return { events, next_before: rows.length > limit ? (events.at(-1)?.id ?? null) : null };
    },
    async close() {
      clearInterval(flushTimer);
      for (const timer of retentionTimers) clearTimeout(timer);
      await retentionRun;
      await flush();
      if (buffer.length > 0) logger.error({ lost: buffer.length }, 'audit rows not written before shutdown');
    },
  };
}
