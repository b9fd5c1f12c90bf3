import type { FastifyRequest } from 'fastify';
import type { App } from '@datalab/platform';
import type { AuditLog } from './audit.service.ts';

/** An upstream names the resource a call created or touched with this header. */
export const RESOURCE_ID_HEADER = 'x-resource-id';

// Probes, scrapes and the static files of the docs UI and the web UI would drown the calls people make.
const UNAUDITED = [/^\/health(\/|$)/, /^\/metrics$/, /^\/docs\/static\//, /^\/assets\//];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// `/api/v1/<service>/` comes before the first segment that can name a resource.
const API_PREFIX_SEGMENTS = 4;

const pathOf = (url: string): string => url.split('?')[0] ?? url;

/** The first UUID in the path after `/api/v1/<service>/`, e.g. the chart in `/api/v1/viz/charts/<id>`. */
function resourceIdIn(path: string): string | undefined {
  if (!path.startsWith('/api/v1/')) return undefined;
  return path
    .split('/')
    .slice(API_PREFIX_SEGMENTS)
    .find((segment) => UUID.test(segment));
}

function headerText(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/**
 * Who called what, for a security event recorded inside a route:
 * `await auditLog.recordSecurityEvent({ action: 'api_key.created', ...auditContext(request), resourceId })`.
 */
export function auditContext(request: FastifyRequest) {
  const path = pathOf(request.url);
  const template = request.routeOptions.url;
  return {
    principal: request.principal,
    ip: request.ip,
    method: request.method,
    // A catch-all (the proxy's `/api/v1/data/*`) or no route at all says nothing; the path does.
    route: template && !template.endsWith('*') ? template : path,
    path,
    requestId: request.id,
  };
}

/**
 * Records every answered call, refused ones included: `onResponse` runs after
 * errors too, also for requests an `onRequest` hook turned away.
 */
export function registerAuditHook(app: App, auditLog: AuditLog): void {
  app.addHook('onResponse', async (request, reply) => {
    const context = auditContext(request);
    if (UNAUDITED.some((pattern) => pattern.test(context.path))) return;
    auditLog.recordRequest({
      ...context,
      // When the call arrived, as access logs have it, so a slow call is found where it began.
      at: new Date(Date.now() - reply.elapsedTime),
      status: reply.statusCode,
      latencyMs: reply.elapsedTime,
      resourceId: headerText(reply.getHeader(RESOURCE_ID_HEADER)) ?? resourceIdIn(context.path),
    });
  });
}
