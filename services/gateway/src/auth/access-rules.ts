import { AppError, type Principal } from '@datalab/platform';

/** Reachable without credentials. */
const PUBLIC = [
  /^(GET|HEAD) \/(\?.*)?$/,
  /^POST \/api\/v1\/auth\/(login|refresh|logout)$/,
  /^(GET|HEAD) \/\.well-known\/jwks\.json$/,
  /^(GET|HEAD) \/(health\/(live|ready)|openapi\.json)$/,
  /^(GET|HEAD) \/docs(\/.*)?$/,
  // The web UI's pages and assets, outside /api: plain paths only (no escapes, `//` or dot
  // segments), so nothing the router would resolve into /api can pass as public.
  /^(GET|HEAD) (?!.*\/[/.])\/(?!api(\/|$))[\w.~\-/]*$/,
];

/** Calls beyond reading that viewers may make: POSTs that only read, and their own credentials. */
const VIEWER_WRITES = [
  /^POST \/api\/v1\/data\/query$/,
  /^POST \/api\/v1\/viz\/render$/,
  /^POST \/api\/v1\/ai\/models\/[^/]+\/predict$/,
  /^POST \/api\/v1\/auth\/(password|api-keys)$/,
  /^DELETE \/api\/v1\/auth\/api-keys\/[^/]+$/,
];

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

// The gateway's metrics and instance details, for admins (Prometheus reads the metrics on
// GATEWAY_METRICS_PORT). Plain paths, which the web UI's rule would otherwise let through.
const ADMIN_OPERATIONS = new Set(['/metrics', '/info']);

export function isPublic(method: string, path: string): boolean {
  if (ADMIN_OPERATIONS.has(path)) return false;
  const line = `${method} ${path}`;
  return PUBLIC.some((pattern) => pattern.test(line));
}

const inAdminArea = (path: string | undefined): boolean =>
  (path?.startsWith('/api/v1/admin/') ?? false) || ADMIN_OPERATIONS.has(path ?? '');

/**
 * The gateway's coarse rules; the services check ownership and visibility
 * themselves. Anonymous → 401 outside the public routes; /api/v1/admin/* is
 * for admins; viewers read, and send only the POSTs that read.
 *
 * `path` is the path as sent, `route` the template of the route it matched. The router decodes
 * the path before matching (`/api/v1/%61dmin/users` runs `/api/v1/admin/users`), so the admin
 * area is recognized by either. The other rules only let through paths that match as sent.
 */
export function checkAccess(
  method: string,
  path: string,
  principal: Principal | undefined,
  route?: string,
): void {
  if (isPublic(method, path)) return;
  if (!principal) throw new AppError('unauthorized', 'Authentication required: log in or send an API key');
  if ((inAdminArea(path) || inAdminArea(route)) && principal.role !== 'admin') {
    throw new AppError('forbidden', 'This needs the admin role');
  }
  if (principal.role === 'viewer' && !READ_METHODS.has(method)) {
    const line = `${method} ${path}`;
    if (!VIEWER_WRITES.some((pattern) => pattern.test(line)))
      throw new AppError('forbidden', 'Viewers can read but not create, change or delete');
  }
}
