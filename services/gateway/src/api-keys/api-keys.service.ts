import {
  AppError,
  createBoundedLru,
  roleRank,
  stringBytes,
  subscribeOrWarn,
  type Events,
  type Logger,
  type Principal,
  type Role,
} from '@datalab/platform';
import { hashSecret, newSecret } from '../auth/secrets.ts';
import type { RecordSecurityEvent } from '../auth/security-events.ts';
import type { RequestContext } from '../users/users.service.ts';
import type { ApiKeyRow, ApiKeysRepository, ApiKeyWithOwner } from './api-keys.repository.ts';

export const API_KEY_PREFIX = 'dlk_';
/** Channel on which a revocation reaches every gateway instance's cache. */
const REVOKED_CHANNEL = 'api-keys.revoked';
const CACHE_TTL_MS = 30_000;
/** About 8,000 keys (a key with its owner's email is well under 500 bytes as estimated). */
const CACHE_BYTES = 4 * 1024 * 1024;
const TOUCH_EVERY_MS = 60_000;

function keyBytes(key: ApiKeyWithOwner): number {
  return [key.id, key.user_id, key.name, key.prefix, key.role, key.owner_email]
    .map(stringBytes)
    .reduce((sum, bytes) => sum + bytes, 4 * 32);
}

function toApiKey(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    role: row.role,
    expires_at: row.expires_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
    last_used_at: row.last_used_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
  };
}

function requireUserLogin(principal: Principal): void {
  if (principal.kind !== 'user')
    throw new AppError('forbidden', 'API keys are managed after a password login, not with an API key');
}

export interface ApiKeySettings {
  /** Keys in use (neither revoked nor expired) one user may have. */
  maxPerUser: number;
}

export function createApiKeysService(
  repository: ApiKeysRepository,
  events: Events,
  recordEvent: RecordSecurityEvent,
  logger: Logger,
  settings: ApiKeySettings,
) {
  // Authenticating every call against the database would cost a round trip per request; keys
  // are cached briefly, and a revocation evicts them everywhere at once. Their owner's role and
  // status are not cached here: the authenticator checks them on every call.
  const cache = createBoundedLru<ApiKeyWithOwner>({ maxBytes: CACHE_BYTES, sizeOf: keyBytes });
  // Which keys had their last use written within TOUCH_EVERY_MS (a write per call would be a write per request).
  const touched = createBoundedLru<true>({ maxBytes: CACHE_BYTES / 4, sizeOf: () => 8 });
  const evict = (id: string): void => cache.deleteWhere((key) => key.id === id);
  const subscription = subscribeOrWarn(
    events,
    REVOKED_CHANNEL,
    (message) => {
      if (typeof message === 'object' && message !== null && 'id' in message) evict(String(message.id));
    },
    logger,
    `a key revoked on another instance stays usable here for up to ${CACHE_TTL_MS / 1000} s`,
  );

  // Unknown keys are not remembered: they would crowd out real ones, and the rate limiter
  // already bounds how often one caller can make us look.
  async function lookup(secret: string): Promise<ApiKeyWithOwner | undefined> {
    const hash = hashSecret(secret);
    const hit = cache.get(hash.toString('base64'));
    if (hit) return hit;
    const key = await repository.findByHash(hash);
    if (key) cache.set(hash.toString('base64'), key, Date.now() + CACHE_TTL_MS);
    return key;
  }

  function refuseOverCap(inUse: number): never {
    throw new AppError(
      'conflict',
      `You have ${inUse} API keys in use, the most one user may have (API_KEYS_PER_USER_MAX=${settings.maxPerUser}): revoke one first`,
      { extensions: { limit: settings.maxPerUser } },
    );
  }

  return {
    async create(
      context: RequestContext,
      name: string,
      role: Role | undefined,
      expiresAt: string | undefined,
    ) {
      requireUserLogin(context.principal);
      const chosen = role ?? context.principal.role;
      if (roleRank(chosen) > roleRank(context.principal.role)) {
        throw new AppError(
          'forbidden',
          `An API key cannot have a higher role than its owner (${context.principal.role})`,
          {
            errors: [{ field: '/body/role', message: `must be at most ${context.principal.role}` }],
          },
        );
      }
      const expires = expiresAt ? new Date(expiresAt) : null;
      if (expires && expires <= new Date()) {
        throw new AppError('invalid', 'expires_at is in the past', {
          errors: [{ field: '/body/expires_at', message: 'must be in the future' }],
        });
      }
      const secret = newSecret(API_KEY_PREFIX);
      const inserted = await repository.insertWithinCap(
        {
          userId: context.principal.userId,
          name,
          prefix: secret.slice(0, API_KEY_PREFIX.length + 6),
          hash: hashSecret(secret),
          role: chosen,
          expiresAt: expires,
        },
        settings.maxPerUser,
      );
      if ('inUse' in inserted) refuseOverCap(inserted.inUse);
      const { row } = inserted;
      await recordEvent({
        action: 'api_key.created',
        principal: context.principal,
        ip: context.ip,
        requestId: context.requestId,
        detail: { api_key_id: row.id, role: chosen },
      });
      return { ...toApiKey(row), key: secret };
    },

    async list(principal: Principal) {
      return { api_keys: (await repository.listOfUser(principal.userId)).map(toApiKey) };
    },

    /** Owners revoke their keys; admins any key. Others learn nothing (404). */
    async revoke(context: RequestContext, id: string) {
      requireUserLogin(context.principal);
      const existing = await repository.findById(id);
      if (
        !existing ||
        (existing.user_id !== context.principal.userId && context.principal.role !== 'admin')
      ) {
        throw new AppError('not_found', 'API key not found');
      }
      const row = (await repository.revoke(id))!;
      evict(id);
      await events.publish(REVOKED_CHANNEL, { id });
      await recordEvent({
        action: 'api_key.revoked',
        principal: context.principal,
        subjectUserId: existing.user_id,
        ip: context.ip,
        requestId: context.requestId,
        detail: { api_key_id: id },
      });
      return toApiKey(row);
    },

    /**
     * The principal a key acts as, with the key's own role; the caller (the authenticator) caps
     * it at the owner's current role and refuses it when the owner is disabled.
     */
    async authenticate(secret: string): Promise<Principal> {
      const key = await lookup(secret);
      if (!key || key.revoked_at || (key.expires_at && key.expires_at <= new Date())) {
        throw new AppError('unauthorized', 'API key is invalid, expired or revoked');
      }
      if (!touched.get(key.id)) {
        touched.set(key.id, true, Date.now() + TOUCH_EVERY_MS);
        void repository.touch(key.id).catch(() => undefined);
      }
      return {
        kind: 'api_key',
        userId: key.user_id,
        email: key.owner_email,
        role: key.role,
        apiKeyId: key.id,
      };
    },

    close: async () => (await subscription)(),
  };
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;
