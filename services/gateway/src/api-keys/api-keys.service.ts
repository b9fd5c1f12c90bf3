import {
  AppError,
  roleRank,
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
const TOUCH_EVERY_MS = 60_000;

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

export function createApiKeysService(
  repository: ApiKeysRepository,
  events: Events,
  recordEvent: RecordSecurityEvent,
  logger: Logger,
) {
  // Authenticating every call against the database would cost a round trip per request;
  // keys are cached briefly, and a revocation evicts them everywhere at once.
  const cache = new Map<string, { key: ApiKeyWithOwner | undefined; at: number }>();
  const touched = new Map<string, number>();
  const evict = (id: string): void => {
    for (const [hash, entry] of cache) if (entry.key?.id === id) cache.delete(hash);
  };
  const subscription = subscribeOrWarn(
    events,
    REVOKED_CHANNEL,
    (message) => {
      if (typeof message === 'object' && message !== null && 'id' in message) evict(String(message.id));
    },
    logger,
    `a key revoked on another instance stays usable here for up to ${CACHE_TTL_MS / 1000} s`,
  );

  async function lookup(secret: string): Promise<ApiKeyWithOwner | undefined> {
    const hash = hashSecret(secret).toString('base64');
    const hit = cache.get(hash);
    if (hit && Date.now() - hit.at < CACHE_TTL_MS) return hit.key;
    const key = await repository.findByHash(hashSecret(secret));
    if (cache.size > 10_000) cache.clear();
    cache.set(hash, { key, at: Date.now() });
    return key;
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
      const row = await repository.insert({
        userId: context.principal.userId,
        name,
        prefix: secret.slice(0, API_KEY_PREFIX.length + 6),
        hash: hashSecret(secret),
        role: chosen,
        expiresAt: expires,
      });
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

    /** The principal a key acts as: its own role, never above its owner's current role. */
    async authenticate(secret: string): Promise<Principal> {
      const key = await lookup(secret);
      const now = new Date();
      if (!key || key.revoked_at || (key.expires_at && key.expires_at <= now) || key.owner_disabled) {
        throw new AppError('unauthorized', 'API key is invalid, expired or revoked');
      }
      if (Date.now() - (touched.get(key.id) ?? 0) > TOUCH_EVERY_MS) {
        touched.set(key.id, Date.now());
        void repository.touch(key.id).catch(() => undefined);
      }
      const role = roleRank(key.role) <= roleRank(key.owner_role) ? key.role : key.owner_role;
      return { kind: 'api_key', userId: key.user_id, email: key.owner_email, role, apiKeyId: key.id };
    },

    close: async () => (await subscription)(),
  };
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;
