import { createHash, randomBytes } from 'node:crypto';

/** A random secret with a readable prefix (`dlr_` refresh token, `dlk_` API key). */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** Secrets are 256-bit random values, so SHA-256 (not a slow password hash) is the right way to store them. */
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
