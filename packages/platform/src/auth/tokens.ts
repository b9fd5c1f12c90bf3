import { randomUUID } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { AppError } from '../errors/errors.ts';
import type { KeySet, SigningKey } from './keys.ts';
import { isRole, type Principal } from './principal.ts';

/** RFC 9068 access tokens, for the public API. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** Gateway → service and service → service tokens; never accepted by the public API. */
export const INTERNAL_TOKEN_TYPE = 'datalab-internal+jwt';
/** The header that carries the internal token between DataLab processes. */
export const INTERNAL_TOKEN_HEADER = 'x-datalab-internal-token';

const ALGORITHMS = ['EdDSA'];
const CLOCK_TOLERANCE_S = 5;

interface PrincipalClaims extends JWTPayload {
  email?: unknown;
  role?: unknown;
  kind?: unknown;
  akid?: unknown;
}

function claimsOf(principal: Principal): Record<string, string> {
  return {
    email: principal.email,
    role: principal.role,
    kind: principal.kind,
    ...(principal.apiKeyId ? { akid: principal.apiKeyId } : {}),
  };
}

function principalFrom(payload: PrincipalClaims): Principal {
  const { sub, email, role, kind, akid } = payload;
  if (
    typeof sub !== 'string' ||
    typeof email !== 'string' ||
    !isRole(role) ||
    (kind !== 'user' && kind !== 'api_key')
  ) {
    throw new AppError('unauthorized', 'Token claims are incomplete');
  }
  return { userId: sub, email, role, kind, ...(typeof akid === 'string' ? { apiKeyId: akid } : {}) };
}

async function sign(
  key: SigningKey,
  type: string,
  claims: Record<string, unknown>,
  options: { subject: string; issuer: string; audience: string; ttlSeconds: number },
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', typ: type, kid: key.kid })
    .setSubject(options.subject)
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds}s`)
    .setJti(randomUUID())
    .sign(key.privateKey);
}

/**
 * RFC 8725: one algorithm allowed (EdDSA — `none` and HMAC can never pass),
 * the key chosen by `kid` among our own keys only, and `typ`, `iss`, `aud`,
 * `exp` all checked.
 */
async function verify(
  keys: KeySet,
  token: string,
  type: string,
  options: { issuer: string | string[]; audience: string },
): Promise<PrincipalClaims> {
  try {
    const { kid } = decodeProtectedHeader(token);
    const key = keys.all.find((candidate) => candidate.kid === kid);
    if (!key) throw new AppError('unauthorized', 'Token signed by an unknown key');
    const { payload } = await jwtVerify(token, key.publicKey, {
      algorithms: ALGORITHMS,
      typ: type,
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: CLOCK_TOLERANCE_S,
      requiredClaims: ['exp', 'iat', 'sub'],
    });
    return payload;
  } catch (error) {
    if (error instanceof AppError) throw error;
    const reason = error instanceof joseErrors.JWTExpired ? 'Token expired' : 'Invalid token';
    throw new AppError('unauthorized', reason, { cause: error });
  }
}

export interface TokenSettings {
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

export function signAccessToken(
  keys: KeySet,
  principal: Principal,
  settings: TokenSettings,
): Promise<string> {
  return sign(keys.active, ACCESS_TOKEN_TYPE, claimsOf(principal), {
    ...settings,
    subject: principal.userId,
  });
}

export async function verifyAccessToken(
  keys: KeySet,
  token: string,
  settings: Omit<TokenSettings, 'ttlSeconds'>,
): Promise<Principal> {
  return principalFrom(await verify(keys, token, ACCESS_TOKEN_TYPE, settings));
}

/** Issuers allowed on internal tokens: the gateway and the services calling each other. */
export const INTERNAL_ISSUERS = [
  'api-gateway',
  'data-service',
  'ai-service',
  'compute-service',
  'viz-service',
];
const INTERNAL_TTL_SECONDS = 60;

/** A short-lived token for one target service (`audience`), carrying the acting principal. */
export function signInternalToken(
  key: SigningKey,
  principal: Principal,
  issuer: string,
  audience: string,
): Promise<string> {
  return sign(key, INTERNAL_TOKEN_TYPE, claimsOf(principal), {
    subject: principal.userId,
    issuer,
    audience,
    ttlSeconds: INTERNAL_TTL_SECONDS,
  });
}

export async function verifyInternalToken(keys: KeySet, token: string, audience: string): Promise<Principal> {
  return principalFrom(
    await verify(keys, token, INTERNAL_TOKEN_TYPE, { issuer: INTERNAL_ISSUERS, audience }),
  );
}
