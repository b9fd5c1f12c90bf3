import { Type, type Static, type TSchema } from 'typebox';

export const SECURITY_ACTIONS = [
  'login.succeeded',
  'login.failed',
  'login.locked',
  'logout',
  'token.refresh_reused',
  'password.changed',
  'api_key.created',
  'api_key.revoked',
  'user.created',
  'user.role_changed',
  'user.disabled',
  'user.enabled',
] as const;
export type SecurityAction = (typeof SECURITY_ACTIONS)[number];

/** The action of every API-call row. */
export const REQUEST_ACTION = 'http.request' as const;

export const AuditKind = Type.Enum(['request', 'security']);
export type AuditKind = Static<typeof AuditKind>;

export const AuditAction = Type.Enum([REQUEST_ACTION, ...SECURITY_ACTIONS], {
  description: '`http.request` for API calls, otherwise the security event.',
});

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const AuditEvent = Type.Object({
  id: Type.Integer({ description: 'Increases with every row; pages are cut by it.' }),
  at: Type.String({ format: 'date-time' }),
  kind: AuditKind,
  action: Type.String(),
  user_id: nullable(Type.String({ format: 'uuid', description: 'The caller (a key’s owner for API keys).' })),
  principal_kind: nullable(Type.Enum(['user', 'api_key'])),
  api_key_id: nullable(Type.String({ format: 'uuid' })),
  ip: nullable(Type.String()),
  method: nullable(Type.String()),
  route: nullable(Type.String({ description: 'Route template, or the path for proxied calls.' })),
  path: nullable(Type.String({ description: 'Path without the query string.' })),
  status: nullable(Type.Integer()),
  latency_ms: nullable(Type.Number()),
  request_id: nullable(Type.String()),
  resource_id: nullable(Type.String({ description: 'The resource the call was about, when known.' })),
  detail: nullable(Type.Record(Type.String(), Type.Unknown())),
});
export type AuditEvent = Static<typeof AuditEvent>;

export const MAX_PAGE = 500;

export const AuditQuery = Type.Object({
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Rows at or after this time.' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Rows before this time.' })),
  user_id: Type.Optional(Type.String({ format: 'uuid' })),
  kind: Type.Optional(AuditKind),
  action: Type.Optional(AuditAction),
  method: Type.Optional(Type.String({ pattern: '^[A-Za-z]{1,16}$' })),
  status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
  route_prefix: Type.Optional(
    Type.String({ minLength: 1, maxLength: 512, description: 'Rows whose route starts with this.' }),
  ),
  request_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  before: Type.Optional(
    Type.Integer({ minimum: 1, description: 'Rows older than this id: the previous page’s `next_before`.' }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 100 })),
});
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditPage = Type.Object({
  events: Type.Array(AuditEvent, { description: 'Newest first.' }),
  next_before: nullable(
    Type.Integer({ description: 'Pass as `before` for the next page; null on the last page.' }),
  ),
});
export type AuditPage = Static<typeof AuditPage>;
