import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Internal tokens made by hand, as an attacker with (or without) a key would make them: an EdDSA
 * JWS over the claims the gateway sends (typ `datalab-internal+jwt`, `kid` the RFC 7638 thumbprint
 * of the public key, `iss`, `aud`, `sub`, `exp`). Built with node:crypto alone, so the test does not
 * trust the platform's own signing code it checks.
 */

export interface Claims {
  sub: string;
  email: string;
  role: 'admin' | 'editor' | 'viewer';
  kind: 'user' | 'api_key';
  iss: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
}

const base64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** RFC 7638: SHA-256 over the required members of the public JWK, in lexical order. */
export function thumbprint(key: KeyObject): string {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return base64url(
    createHash('sha256')
      .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x }))
      .digest(),
  );
}

/** The internal key `datalab up` keeps in its data directory. */
export async function internalKey(dataDir: string): Promise<KeyObject> {
  return createPrivateKey(await readFile(path.join(dataDir, 'keys', 'internal-ed25519.pem'), 'utf8'));
}

/** A key DataLab has never seen. */
export function strangerKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

/** Claims for a call from the gateway to the data-service as `user`, valid for a minute from now. */
export function claimsFor(
  user: { id: string; role: Claims['role'] },
  overrides: Partial<Claims> = {},
): Claims {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: user.id,
    email: `${user.id}@example.test`,
    role: user.role,
    kind: 'user',
    iss: 'api-gateway',
    aud: 'data-service',
    iat: now,
    exp: now + 60,
    jti: randomUUID(),
    ...overrides,
  };
}

/** A compact JWS of `claims` signed by `key`; `header` overrides the protected header (`kid`, `typ`, `alg`). */
export function signToken(key: KeyObject, claims: Claims, header: Record<string, string> = {}): string {
  const protectedHeader = { alg: 'EdDSA', typ: 'datalab-internal+jwt', kid: thumbprint(key), ...header };
  const input = `${base64url(JSON.stringify(protectedHeader))}.${base64url(JSON.stringify(claims))}`;
  return `${input}.${base64url(sign(null, Buffer.from(input), key))}`;
}

/** An unsigned token (`alg: none`), the oldest trick against JWT checks. */
export function unsignedToken(claims: Claims): string {
  const header = { alg: 'none', typ: 'datalab-internal+jwt' };
  return `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}.`;
}
