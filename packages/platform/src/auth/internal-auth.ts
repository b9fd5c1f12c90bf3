import { AppError } from '../errors/errors.ts';
import type { App } from '../server/server.ts';
import type { KeySet } from './keys.ts';
import { INTERNAL_TOKEN_HEADER, verifyInternalToken } from './tokens.ts';
import { createVerifiedTokenCache, expiryOf } from './verified-cache.ts';

/** Reachable without a token: probes, scrapes and the API description. */
const OPEN_ROUTES = new Set(['/health/live', '/health/ready', '/metrics', '/info', '/openapi.json']);

/**
 * A service reached directly, without the gateway, refuses the call: every
 * other route needs an internal token addressed to this service.
 */
export function requireInternalToken(app: App, keys: KeySet, audience: string): void {
  const verified = createVerifiedTokenCache();
  app.addHook('onRequest', async (request) => {
    if (OPEN_ROUTES.has(request.routeOptions.url ?? '')) return;
    const token = request.headers[INTERNAL_TOKEN_HEADER];
    if (typeof token !== 'string') {
      throw new AppError(
        'unauthorized',
        'This service is reached through the gateway: internal token missing',
      );
    }
    const known = verified.get(token);
    if (known) {
      request.principal = known;
      return;
    }
    request.principal = await verifyInternalToken(keys, token, audience);
    verified.set(token, request.principal, expiryOf(token));
  });
}
