import type { Pool } from '@datalab/platform';
import type { AuditKind } from './audit.schemas.ts';

/** One row to append, in the table's terms. */
export interface NewAuditEvent {
  at: Date;
  kind: AuditKind;
  action: string;
  principalUserId: string | null;
  principalKind: 'user' | 'api_key' | null;
  apiKeyId: string | null;
  ip: string | null;
  method: string | null;
  route: string | null;
  path: string | null;
  status: number | null;
  latencyMs: number | null;
  requestId: string | null;
  resourceId: string | null;
  detail: Record<string, unknown> | null;
}

export interface AuditFilters {
  /** Inclusive. */
  from?: Date | undefined;
  /** Exclusive. */
  to?: Date | undefined;
  userId?: string | undefined;
  kind?: AuditKind | undefined;
  action?: string | undefined;
  method?: string | undefined;
  status?: number | undefined;
  routePrefix?: string | undefined;
  requestId?: string | undefined;
  /** Only rows with a smaller id: the keyset cursor. */
  before?: number | undefined;
  limit: number;
}

export interface AuditEventRow {
  id: string;
  at: Date;
  kind: AuditKind;
  action: string;
  principal_user_id: string | null;
  principal_kind: 'user' | 'api_key' | null;
  api_key_id: string | null;
  ip: string | null;
  method: string | null;
  route: string | null;
  path: string | null;
  status: number | null;
  latency_ms: number | null;
  request_id: string | null;
  resource_id: string | null;
  detail: Record<string, unknown> | null;
}

/** Appends rows in one statement: one array parameter per column, zipped by unnest. */
export async function insertEvents(pool: Pool, events: readonly NewAuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await pool.query(
    `INSERT INTO audit.events (at, kind, action, principal_user_id, principal_kind, api_key_id, ip,
                               method, route, path, status, latency_ms, request_id, resource_id, detail)
     SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::uuid[],
                          $7::inet[], $8::text[], $9::text[], $10::text[], $11::integer[], $12::real[],
                          $13::text[], $14::text[], $15::jsonb[])`,
    [
      events.map((e) => e.at.toISOString()),
      events.map((e) => e.kind),
      events.map((e) => e.action),
      events.map((e) => e.principalUserId),
      events.map((e) => e.principalKind),
      events.map((e) => e.apiKeyId),
      events.map((e) => e.ip),
      events.map((e) => e.method),
      events.map((e) => e.route),
      events.map((e) => e.path),
      events.map((e) => e.status),
      events.map((e) => e.latencyMs),
      events.map((e) => e.requestId),
      events.map((e) => e.resourceId),
      events.map((e) => (e.detail === null ? null : JSON.stringify(e.detail))),
    ],
  );
}

/** `%`, `_` and `\` in a prefix are matched literally. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Newest first, at most `limit` rows. */
export async function findEvents(pool: Pool, filters: AuditFilters): Promise<AuditEventRow[]> {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const where = (column: string, operator: string, value: unknown): void => {
    if (value === undefined) return;
    params.push(value);
    conditions.push(`${column} ${operator} $${params.length}`);
  };
  where('at', '>=', filters.from);
  where('at', '<', filters.to);
  where('principal_user_id', '=', filters.userId);
  where('kind', '=', filters.kind);
  where('action', '=', filters.action);
  where('method', '=', filters.method);
  where('status', '=', filters.status);
  where('route', 'LIKE', filters.routePrefix === undefined ? undefined : likePrefix(filters.routePrefix));
  where('request_id', '=', filters.requestId);
  where('id', '<', filters.before);
  params.push(filters.limit);
  const result = await pool.query<AuditEventRow>(
    `SELECT id, at, kind, action, principal_user_id, principal_kind, api_key_id, host(ip) AS ip, method,
            route, path, status, latency_ms, request_id, resource_id, detail
       FROM audit.events
      ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
      ORDER BY id DESC
      LIMIT $${params.length}`,
    params,
  );
  return result.rows;
}

/**
 * One batch of retention in its own short transaction, the only kind the
 * append-only trigger lets delete: it sets `datalab.audit_retention` first.
 */
async function deleteBatch(pool: Pool, days: number, batchSize: number): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SET LOCAL datalab.audit_retention = 'on'");
    const result = await client.query(
      `DELETE FROM audit.events
        WHERE id IN (SELECT id FROM audit.events
                      WHERE at < now() - make_interval(days => $1)
                      ORDER BY id LIMIT $2)`,
      [days, batchSize],
    );
    await client.query('COMMIT');
    client.release();
    return result.rowCount ?? 0;
  } catch (error) {
    // A connection that cannot even roll back is broken: destroy it rather than return it to the pool.
    const rolledBack = await client.query('ROLLBACK').then(
      () => true,
      () => false,
    );
    client.release(!rolledBack);
    throw error;
  }
}

/** Deletes rows older than `days`, in batches so no transaction holds many locks or much WAL. */
export async function deleteOlderThan(pool: Pool, days: number, batchSize: number): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await deleteBatch(pool, days, batchSize);
    total += deleted;
    if (deleted < batchSize) return total;
  }
}
