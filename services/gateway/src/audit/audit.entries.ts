import { isIP } from 'node:net';
import type { Principal } from '@datalab/platform';
import type { AuditEventRow, NewAuditEvent } from './audit.repository.ts';
import { REQUEST_ACTION, type AuditEvent, type SecurityAction } from './audit.schemas.ts';

/** Who called, as far as the audit log cares: a full `Principal` fits. */
export type AuditPrincipal = Pick<Principal, 'userId' | 'kind' | 'apiKeyId'>;

/** One answered API call. */
export interface RequestEntry {
  at: Date;
  principal: AuditPrincipal | undefined;
  ip: string | undefined;
  method: string;
  /** The route template, or the path for proxied calls. */
  route: string;
  path: string;
  status: number;
  latencyMs: number;
  requestId: string;
  resourceId: string | undefined;
}

export interface SecurityEvent {
  action: SecurityAction;
  /** Who acted (for a login, who logged in); unset when nobody is known, as after a failed login. */
  principal?: AuditPrincipal | undefined;
  /** Whom it concerns, when not the actor (the user whose role changed); stored as the resource id. */
  subjectUserId?: string | undefined;
  /** The request it happened in, when there is one. */
  ip?: string | undefined;
  method?: string | undefined;
  route?: string | undefined;
  path?: string | undefined;
  requestId?: string | undefined;
  /** What else an investigator needs (the email tried, the old and new role); never secrets. */
  detail?: Record<string, unknown> | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// A malformed value must not make PostgreSQL refuse a whole batch: ids that are not UUIDs and
// addresses that are not IPs become null, text is bounded and loses the NUL bytes text columns refuse.
const uuidOrNull = (value: string | undefined): string | null => (value && UUID.test(value) ? value : null);
const ipOrNull = (value: string | undefined): string | null => (value && isIP(value) ? value : null);
const text = (value: string | undefined, max = 2048): string | null =>
  value === undefined ? null : value.replaceAll('\0', '').slice(0, max);

/** jsonb refuses \u0000 in strings, as text columns do. */
function withoutNul(detail: Record<string, unknown>): Record<string, unknown> {
  const json = JSON.stringify(detail, (_key, value: unknown) =>
    typeof value === 'string' ? value.replaceAll('\0', '') : value,
  );
  return JSON.parse(json) as Record<string, unknown>;
}

function principalColumns(principal: AuditPrincipal | undefined) {
  return {
    principalUserId: uuidOrNull(principal?.userId),
    principalKind: principal?.kind ?? null,
    apiKeyId: uuidOrNull(principal?.apiKeyId),
  };
}

export function requestRow(entry: RequestEntry): NewAuditEvent {
  return {
    at: entry.at,
    kind: 'request',
    action: REQUEST_ACTION,
    ...principalColumns(entry.principal),
    ip: ipOrNull(entry.ip),
    method: text(entry.method, 16),
    route: text(entry.route),
    path: text(entry.path),
    status: entry.status,
    latencyMs: Math.max(0, entry.latencyMs),
    requestId: text(entry.requestId, 128),
    resourceId: text(entry.resourceId, 256),
    detail: null,
  };
}

export function securityRow(event: SecurityEvent): NewAuditEvent {
  return {
    at: new Date(),
    kind: 'security',
    action: event.action,
    ...principalColumns(event.principal),
    ip: ipOrNull(event.ip),
    method: text(event.method, 16),
    route: text(event.route),
    path: text(event.path),
    status: null,
    latencyMs: null,
    requestId: text(event.requestId, 128),
    resourceId: text(event.subjectUserId, 256),
    detail: event.detail ? withoutNul(event.detail) : null,
  };
}

/** A stored row as the API shows it. */
export function eventView(row: AuditEventRow): AuditEvent {
  return {
    id: Number(row.id),
    at: row.at.toISOString(),
    kind: row.kind,
    action: row.action,
    user_id: row.principal_user_id,
    principal_kind: row.principal_kind,
    api_key_id: row.api_key_id,
    ip: row.ip,
    method: row.method,
    route: row.route,
    path: row.path,
    status: row.status,
    latency_ms: row.latency_ms,
    request_id: row.request_id,
    resource_id: row.resource_id,
    detail: row.detail,
  };
}
