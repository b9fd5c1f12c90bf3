import type { FastifyRequest } from 'fastify';
import {
  AppError,
  createBoundedLru,
  createVerifiedTokenCache,
  stringBytes,
  expiryOf,
  roleRank,
  verifyAccessToken,
  type Events,
  subscribeOrWarn,
  type KeySet,
  type Logger,
  type Principal,
  type Role,
} from '@datalab/platform';
import { API_KEY_PREFIX, type ApiKeysService } from '../api-keys/api-keys.service.ts';
import { ACCESS_TOKEN_AUDIENCE } from '../sessions/sessions.service.ts';
import type { UsersRepository } from '../users/users.repository.ts';

/** Published when a user's role, status or sessions change, so every gateway instance forgets its cached copy. */
export const USER_CHANGED_CHANNEL = 'users.changed';
const STATUS_TTL_MS = 10_000;
/** About 20,000 users' statuses: more than are active within STATUS_TTL_MS on one instance. */
const STATUS_CACHE_BYTES = 4 * 1024 * 1024;

interface UserStatus {
  role: Role;
  disabled: boolean;
  /** Epoch seconds: access tokens issued before are refused. */
  tokensValidAfter: number;
}

export interface AuthenticatorOptions {
  keys: KeySet;
  issuer: string;
  apiKeys: ApiKeysService;
  users: UsersRepository;
  events: Events;
  logger: Logger;
}

function credentialOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new AppError('unauthorized', 'Authorization must be "Bearer <token or API key>"');
    return match[1];
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey : undefined;
}

/** The `iat` of a token whose signature was verified (so its payload can be trusted). */
function issuedAtOf(token: string): number {
  const payload = token.split('.')[1] ?? '';
  const { iat } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iat?: number };
  return typeof iat === 'number' ? iat : 0;
}

/**
 * Turns a request's credentials (access token, or API key as a Bearer token or
 * in X-API-Key) into a principal. Tokens live 15 minutes and API keys are cached,
 * yet a disabled user, a lowered role or ended sessions take effect at once: the
 * user's current status is checked on every call (cached briefly, and evicted on
 * every instance when it changes).
 */
export function createAuthenticator(options: AuthenticatorOptions) {
  const statuses = createBoundedLru<UserStatus>({
    maxBytes: STATUS_CACHE_BYTES,
    sizeOf: (status) => stringBytes(status.role) + 32,
  });
  // Bumped by every eviction: a lookup that began before one does not cache what it read,
  // since that may be the state the eviction was announcing the end of.
  let evictions = 0;
  const evict = (userId: string): void => {
    evictions += 1;
    statuses.delete(userId);
  };
  const subscription = subscribeOrWarn(
    options.events,
    USER_CHANGED_CHANNEL,
    (message) => {
      if (typeof message === 'object' && message !== null && 'id' in message) evict(String(message.id));
    },
    options.logger,
    `a user disabled on another instance keeps access here for up to ${STATUS_TTL_MS / 1000} s`,
  );

  async function currentStatus(userId: string): Promise<UserStatus | undefined> {
    const cached = statuses.get(userId);
    if (cached) return cached;
    const before = evictions;
    const user = await options.users.findById(userId);
    if (!user) return undefined;
    const status = {
      role: user.role,
      disabled: user.disabled_at !== null,
      tokensValidAfter: (user.tokens_valid_after?.getTime() ?? 0) / 1000,
    };
    if (before === evictions) statuses.set(userId, status, Date.now() + STATUS_TTL_MS);
    return status;
  }

  /** The principal as the user's current status allows: refused when disabled, never above the current role. */
  async function asTheyAreNow(principal: Principal): Promise<{ principal: Principal; status: UserStatus }> {
    const status = await currentStatus(principal.userId);
    if (!status || status.disabled) throw new AppError('unauthorized', 'This account is disabled or gone');
    const capped =
      roleRank(status.role) < roleRank(principal.role) ? { ...principal, role: status.role } : principal;
    return { principal: capped, status };
  }

  // A signature check costs more than the rest of a request; a client repeats its token many times.
  const verified = createVerifiedTokenCache();

  async function fromAccessToken(token: string): Promise<Principal> {
    let claimed = verified.get(token);
    if (!claimed) {
      claimed = await verifyAccessToken(options.keys, token, {
        issuer: options.issuer,
        audience: ACCESS_TOKEN_AUDIENCE,
      });
      verified.set(token, claimed, expiryOf(token));
    }
    const { principal, status } = await asTheyAreNow(claimed);
    if (issuedAtOf(token) < status.tokensValidAfter)
      throw new AppError('unauthorized', 'This session has ended (password changed): log in again');
    return principal;
  }

  return {
    /** The caller's principal; `undefined` without credentials; 401 for bad ones. */
    async authenticate(request: FastifyRequest): Promise<Principal | undefined> {
      const credential = credentialOf(request);
      if (credential === undefined) return undefined;
      if (!credential.startsWith(API_KEY_PREFIX)) return fromAccessToken(credential);
      return (await asTheyAreNow(await options.apiKeys.authenticate(credential))).principal;
    },
    /** Forgets the user here at once, and on every other instance as soon as the event arrives. */
    forget: async (userId: string): Promise<void> => {
      evict(userId);
      await options.events.publish(USER_CHANGED_CHANNEL, { id: userId });
    },
    close: async () => (await subscription)(),
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
