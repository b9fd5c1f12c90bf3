import { Type, type Static } from 'typebox';
import { Problem } from './problem.schemas.ts';

export const ServiceName = Type.Union([
  Type.Literal('api-gateway'),
  Type.Literal('data-service'),
  Type.Literal('ai-service'),
  Type.Literal('compute-service'),
  Type.Literal('viz-service'),
]);
export type ServiceName = Static<typeof ServiceName>;

export const DependencyStatus = Type.Object({
  name: Type.String(),
  status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  latency_ms: Type.Number(),
  error: Type.Optional(Type.String()),
});
export type DependencyStatus = Static<typeof DependencyStatus>;

export const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  dependencies: Type.Array(DependencyStatus),
});
export type Readiness = Static<typeof Readiness>;

export const ServiceInfo = Type.Object({
  name: ServiceName,
  version: Type.String(),
  instance_id: Type.String(),
  started_at: Type.String({ format: 'date-time' }),
  dependencies: Type.Array(DependencyStatus),
});
export type ServiceInfo = Static<typeof ServiceInfo>;

export const UpstreamInstance = Type.Object({
  url: Type.Optional(
    Type.String({ description: 'Shown to admins only, as are instance_id and last_error.' }),
  ),
  source: Type.Union([Type.Literal('static'), Type.Literal('registered')]),
  instance_id: Type.Optional(Type.String()),
  state: Type.Union([Type.Literal('healthy'), Type.Literal('unhealthy'), Type.Literal('unknown')]),
  last_checked_at: Type.Optional(Type.String({ format: 'date-time' })),
  last_error: Type.Optional(Type.String()),
});
export type UpstreamInstance = Static<typeof UpstreamInstance>;

export const UpstreamService = Type.Object({
  name: ServiceName,
  prefix: Type.String({ description: 'Public path prefix routed to this service.' }),
  healthy: Type.Boolean({ description: 'True when at least one instance is healthy.' }),
  instances: Type.Array(UpstreamInstance),
});
export type UpstreamService = Static<typeof UpstreamService>;

export const ServicesList = Type.Object({ services: Type.Array(UpstreamService) });
export type ServicesList = Static<typeof ServicesList>;

/** `/health/ready` when a dependency is down: a problem document that lists every dependency. */
export const NotReady = Type.Intersect([
  Problem,
  Type.Object({ dependencies: Type.Array(DependencyStatus) }),
]);
export type NotReady = Static<typeof NotReady>;
