import type { Principal } from './principal.ts';

/**
 * Remembers tokens already verified, until they expire: a signature check
 * costs far more than the rest of a request, and a client sends the same
 * token many times. Bounded: it starts over when full.
 */
export function createVerifiedTokenCache(maxEntries = 10_000) {
  const entries = new Map<string, { principal: Principal; expiresAt: number }>();
  return {
    get(token: string): Principal | undefined {
      const entry = entries.get(token);
      if (!entry) return undefined;
      if (entry.expiresAt <= Date.now()) {
        entries.delete(token);
        return undefined;
      }
      return entry.principal;
    },
    set(token: string, principal: Principal, expiresAtSeconds: number): void {
      if (entries.size >= maxEntries) entries.clear();
      entries.set(token, { principal, expiresAt: expiresAtSeconds * 1000 });
    },
  };
}

/** The `exp` of a JWT whose signature was just verified (so its payload can be trusted). */
export function expiryOf(token: string): number {
  const payload = token.split('.')[1] ?? '';
  const { exp } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { exp?: number };
  return typeof exp === 'number' ? exp : 0;
}
