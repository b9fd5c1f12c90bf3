import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, signAccessToken, type KeySet, type Principal } from '@datalab/platform';
import { DECOY_HASH, verifyPassword } from '../auth/passwords.ts';
import { hashSecret, newSecret } from '../auth/secrets.ts';
import type { RecordSecurityEvent } from '../auth/security-events.ts';
import type { UserRow, UsersRepository } from '../users/users.repository.ts';
import type { SessionsRepository } from './sessions.repository.ts';

export const ACCESS_TOKEN_AUDIENCE = 'datalab-api';

export interface SessionSettings {
  keys: KeySet;
  issuer: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  lockoutThreshold: number;
  lockoutMinutes: number;
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export interface Caller {
  ip: string;
  requestId: string;
}

const WRONG = 'Email or password is wrong';

/** After a few failures in a row each further attempt waits longer, up to 4 s, before it is answered. */
function slowDownMs(failures: number): number {
  return failures < 3 ? 0 : Math.min(250 * 2 ** (failures - 3), 4000);
}

function userPrincipal(user: UserRow): Principal {
  return { kind: 'user', userId: user.id, email: user.email, role: user.role };
}

export function createSessionsService(
  users: UsersRepository,
  sessions: SessionsRepository,
  recordEvent: RecordSecurityEvent,
  settings: SessionSettings,
) {
  async function issue(user: UserRow, familyId: string): Promise<Tokens> {
    const refreshToken = newSecret('dlr_');
    const expiresAt = new Date(Date.now() + settings.refreshTokenTtlDays * 86_400_000);
    await sessions.insert(familyId, user.id, hashSecret(refreshToken), expiresAt);
    return {
      access_token: await accessToken(user),
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: settings.accessTokenTtlSeconds,
    };
  }

  function accessToken(user: UserRow): Promise<string> {
    return signAccessToken(settings.keys, userPrincipal(user), {
      issuer: settings.issuer,
      audience: ACCESS_TOKEN_AUDIENCE,
      ttlSeconds: settings.accessTokenTtlSeconds,
    });
  }

  async function refuseLocked(user: UserRow, caller: Caller): Promise<never> {
    const seconds = Math.ceil(((user.locked_until?.getTime() ?? Date.now()) - Date.now()) / 1000);
    await recordEvent({ action: 'login.locked', subjectUserId: user.id, ...caller });
    throw new AppError(
      'rate_limited',
      `Too many failed logins: try again in ${Math.ceil(seconds / 60)} minute(s)`,
      {
        headers: { 'retry-after': String(Math.max(1, seconds)) },
      },
    );
  }

  return {
    async login(email: string, password: string, caller: Caller): Promise<Tokens> {
      const user = await users.findByEmail(email);
      if (!user) {
        await verifyPassword(await DECOY_HASH, password);
        await recordEvent({ action: 'login.failed', ...caller, detail: { email, reason: 'unknown email' } });
        throw new AppError('unauthorized', WRONG);
      }
      if (user.locked_until && user.locked_until > new Date()) return refuseLocked(user, caller);
      if (!(await verifyPassword(user.password_hash, password))) {
        const counted = await users.recordFailedLogin(
          user.id,
          settings.lockoutThreshold,
          settings.lockoutMinutes,
        );
        await recordEvent({ action: 'login.failed', subjectUserId: user.id, ...caller, detail: { email } });
        if (counted?.locked_until && counted.locked_until > new Date()) return refuseLocked(counted, caller);
        await sleep(slowDownMs(counted?.failed_logins ?? 0));
        throw new AppError('unauthorized', WRONG);
      }
      if (user.disabled_at) throw new AppError('forbidden', 'This account is disabled');
      await users.recordSuccessfulLogin(user.id);
      await recordEvent({ action: 'login.succeeded', principal: userPrincipal(user), ...caller });
      return issue(user, randomUUID());
    },

    /** Rotates: the presented token is spent and a new one issued. A spent token presented again revokes its family. */
    async refresh(refreshToken: string, caller: Caller): Promise<Tokens> {
      const row = await sessions.findByHash(hashSecret(refreshToken));
      if (!row || row.revoked_at || row.expires_at <= new Date()) {
        throw new AppError('unauthorized', 'Refresh token is invalid or expired');
      }
      const user = await users.findById(row.user_id);
      if (!user || user.disabled_at) {
        await sessions.revokeFamily(row.family_id);
        throw new AppError('unauthorized', 'Refresh token is invalid or expired');
      }
      const nextToken = newSecret('dlr_');
      if (row.used_at || !(await sessions.rotate(row, hashSecret(nextToken)))) {
        await sessions.revokeFamily(row.family_id);
        await recordEvent({
          action: 'token.refresh_reused',
          subjectUserId: row.user_id,
          ...caller,
          detail: { family_id: row.family_id },
        });
        throw new AppError(
          'unauthorized',
          'Refresh token was already used: every session of this login is revoked',
        );
      }
      return {
        access_token: await accessToken(user),
        refresh_token: nextToken,
        token_type: 'Bearer',
        expires_in: settings.accessTokenTtlSeconds,
      };
    },

    async logout(refreshToken: string, caller: Caller): Promise<void> {
      const row = await sessions.findByHash(hashSecret(refreshToken));
      if (!row) return;
      await sessions.revokeFamily(row.family_id);
      await recordEvent({ action: 'logout', subjectUserId: row.user_id, ...caller });
    },

    revokeAllOfUser: (userId: string) => sessions.revokeAllOfUser(userId),
  };
}

export type SessionsService = ReturnType<typeof createSessionsService>;
