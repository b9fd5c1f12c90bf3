import type { IncomingMessage } from 'node:http';

// `scheme://authority` at the start of an absolute-form target (RFC 3986 §3.1, §3.2); the authority
// ends where Fastify's router (find-my-way) ends it, at the first `/` or `?`.
const SCHEME_AND_AUTHORITY = /^[a-z][a-z\d+.-]*:\/\/[^/?]*/i;

/**
 * The request-target in origin-form (`/path?query`), for Fastify's `rewriteUrl`.
 *
 * HTTP/1.1 lets a client send the absolute form, `GET http://host/path`; RFC 9112 §3.2.2 has a
 * server take the path from it and ignore the host. Fastify's router already routes it by that
 * path, but hooks and handlers read `request.url` as sent. Rewriting it before routing makes every
 * part of a service see one path: the gateway's access rules once took
 * `http://x/api/v1/admin/users` for a path outside /api/v1/admin, and its proxy sent
 * `http://other-host/api/v1/...` to that host, internal token included.
 */
export function originForm(request: IncomingMessage): string {
  const target = request.url ?? '/';
  if (target.startsWith('/')) return target;
  const scheme = SCHEME_AND_AUTHORITY.exec(target);
  if (!scheme) return target;
  const rest = target.slice(scheme[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}
