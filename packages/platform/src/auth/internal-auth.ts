import { AppError } from '../errors/errors.ts';
import type { App } from '../server/server.ts';
import type { KeySet } from './keys.ts';
import { INTERNAL_TOKEN_HEADER, verifyInternalToken } from './tokens.ts';

/** Reachable without a token: probes, scrapes and the API description. */
const OPEN_ROUTES = new Set(['/health/live', '/health/ready', '/metrics', '/info', '/openapi.json']);

/**
 * A service reached directly, without the gateway, refuses the call: every
 * other route needs an internal token addressed to this service.
 */
export function requireInternalToken(app: App, keys: KeySet, audience: string): void {
  app.addHook('onRequest', async (request) => {
    if (OPEN_ROUTES.has(request.routeOptions.url ?? '')) return;
    const token = request.headers[INTERNAL_TOKEN_HEADER];
    if (typeof token !== 'string') {
      throw new AppError(
        'unauthorized',
        'This service is reached through the gateway: internal token missing',
      );
    }
    request.principal = await verifyInternalToken(keys, token, audience);
  });
}
