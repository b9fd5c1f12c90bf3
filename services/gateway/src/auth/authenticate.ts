import type { FastifyRequest } from 'fastify';
import {
  AppError,
  createVerifiedTokenCache,
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

/** Published when a user's role or status changes, so every gateway instance forgets its cached copy. */
export const USER_CHANGED_CHANNEL = 'users.changed';
const STATUS_TTL_MS = 10_000;

interface UserStatus {
  role: Role;
  disabled: boolean;
  at: number;
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

/**
 * Turns a request's credentials (access token, or API key as a Bearer token or
 * in X-API-Key) into a principal. Tokens live 15 minutes, yet a disabled user
 * or a lowered role takes effect within seconds: the user's current status is
 * checked (cached briefly, evicted on change).
 */
export function createAuthenticator(options: AuthenticatorOptions) {
  const statuses = new Map<string, UserStatus>();
  const subscription = subscribeOrWarn(
    options.events,
    USER_CHANGED_CHANNEL,
    (message) => {
      if (typeof message === 'object' && message !== null && 'id' in message)
        statuses.delete(String(message.id));
    },
    options.logger,
    `a user disabled on another instance keeps access here for up to ${STATUS_TTL_MS / 1000} s`,
  );

  async function currentStatus(userId: string): Promise<UserStatus | undefined> {
    const cached = statuses.get(userId);
    if (cached && Date.now() - cached.at < STATUS_TTL_MS) return cached;
    const user = await options.users.findById(userId);
    if (!user) return undefined;
    const status = { role: user.role, disabled: user.disabled_at !== null, at: Date.now() };
    if (statuses.size > 50_000) statuses.clear();
    statuses.set(userId, status);
    return status;
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
    const status = await currentStatus(claimed.userId);
    if (!status || status.disabled) throw new AppError('unauthorized', 'This account is disabled or gone');
    return roleRank(status.role) < roleRank(claimed.role) ? { ...claimed, role: status.role } : claimed;
  }

  return {
    /** The caller's principal; `undefined` without credentials; 401 for bad ones. */
    async authenticate(request: FastifyRequest): Promise<Principal | undefined> {
      const credential = credentialOf(request);
      if (credential === undefined) return undefined;
      return credential.startsWith(API_KEY_PREFIX)
        ? options.apiKeys.authenticate(credential)
        : fromAccessToken(credential);
    },
    forget: (userId: string) => options.events.publish(USER_CHANGED_CHANNEL, { id: userId }),
    close: async () => (await subscription)(),
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
