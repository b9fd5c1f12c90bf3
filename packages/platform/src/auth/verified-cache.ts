import { createHash } from 'node:crypto';
import { createBoundedLru, stringBytes } from '../adapters/bounded-lru.ts';
import type { Principal } from './principal.ts';

/** Room for about 20,000 principals: far more callers than one process serves within a token's life. */
const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

function principalBytes(principal: Principal): number {
  return (
    stringBytes(principal.userId) +
    stringBytes(principal.email) +
    stringBytes(principal.role) +
    stringBytes(principal.kind) +
    stringBytes(principal.apiKeyId ?? '') +
    64
  );
}

/**
 * Remembers tokens already verified, until they expire: a signature check
 * costs far more than the rest of a request, and a client sends the same
 * token many times. Kept by the token's SHA-256, so a large token costs no
 * more than a small one, within a byte budget, least recently used first out.
 */
export function createVerifiedTokenCache(maxBytes = DEFAULT_MAX_BYTES) {
  const entries = createBoundedLru<Principal>({ maxBytes, sizeOf: principalBytes });
  const keyOf = (token: string): string => createHash('sha256').update(token).digest('base64');
  return {
    get: (token: string): Principal | undefined => entries.get(keyOf(token)),
    set(token: string, principal: Principal, expiresAtSeconds: number): void {
      entries.set(keyOf(token), principal, expiresAtSeconds * 1000);
    },
    /** The estimated bytes held; never above the budget. */
    get bytes(): number {
      return entries.bytes;
    },
  };
}

/** The `exp` of a JWT whose signature was just verified (so its payload can be trusted). */
export function expiryOf(token: string): number {
  const payload = token.split('.')[1] ?? '';
  const { exp } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { exp?: number };
  return typeof exp === 'number' ? exp : 0;
}
