import type { FastifyRequest } from 'fastify';
import { jwksOf, type App, type KeySet } from '@datalab/platform';
import { apiKeysRoutes } from '../api-keys/api-keys.routes.ts';
import { sessionsRoutes } from '../sessions/sessions.routes.ts';
import { usersRoutes } from '../users/users.routes.ts';
import { checkAccess, isPublic } from './access-rules.ts';
import type { Identity } from './identity.ts';

const authFailures = new WeakMap<FastifyRequest, unknown>();

/**
 * Who is calling: sets `request.principal`. A credential that fails is kept
 * aside, not thrown yet, so that hooks between this one and `enforceAccess`
 * (the rate limiter) still count the attempt, by IP.
 */
export function identifyCallers(app: App, identity: Identity): void {
  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0] ?? request.url;
    if (isPublic(request.method, path)) return;
    try {
      request.principal = await identity.authenticator.authenticate(request);
    } catch (error) {
      authFailures.set(request, error);
    }
  });
}

/** Refuses what `identifyCallers` could not accept, then applies the coarse access rules. */
export function enforceAccess(app: App): void {
  app.addHook('onRequest', async (request) => {
    if (authFailures.has(request)) throw authFailures.get(request);
    checkAccess(
      request.method,
      request.url.split('?')[0] ?? request.url,
      request.principal,
      request.routeOptions.url,
    );
  });
}

/** The identity routes: sessions, API keys, users, JWKS. */
export function identityRoutes(app: App, identity: Identity, keys: KeySet): void {
  app.get(
    '/.well-known/jwks.json',
    { schema: { tags: ['auth'], summary: 'Public keys that verify access tokens (RFC 7517).' } },
    async () => jwksOf(keys),
  );
  sessionsRoutes(app, identity.sessions);
  apiKeysRoutes(app, identity.apiKeys);
  usersRoutes(app, identity.users);
}
