import { signInternalToken, type Principal, type SigningKey } from '@datalab/platform';

const REUSE_FOR_MS = 30_000;

/**
 * Internal tokens live 60 s; one is reused for 30 s per (caller, service) so the
 * gateway does not sign a token on every request.
 */
export function createInternalTokenCache(key: SigningKey) {
  const tokens = new Map<string, { token: string; until: number }>();
  return async (principal: Principal, service: string): Promise<string> => {
    const cacheKey = `${service}|${principal.userId}|${principal.apiKeyId ?? ''}|${principal.role}|${principal.email}`;
    const cached = tokens.get(cacheKey);
    if (cached && cached.until > Date.now()) return cached.token;
    const token = await signInternalToken(key, principal, 'api-gateway', service);
    if (tokens.size > 10_000) tokens.clear();
    tokens.set(cacheKey, { token, until: Date.now() + REUSE_FOR_MS });
    return token;
  };
}
