import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, signAccessToken, type KeySet, type Principal } from '@datalab/platform';
import type { PasswordAttempts } from '../auth/password-attempts.ts';
import { assertStrongPassword, DECOY_HASH, hashPassword, verifyPassword } from '../auth/passwords.ts';
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

function userPrincipal(user: UserRow): Principal {
  return { kind: 'user', userId: user.id, email: user.email, role: user.role };
}

export function createSessionsService(
  users: UsersRepository,
  sessions: SessionsRepository,
  attempts: PasswordAttempts,
  recordEvent: RecordSecurityEvent,
  settings: SessionSettings,
  /** Runs once a user's sessions ended, so every gateway instance forgets what it cached of them. */
  onSessionsEnded: (userId: string) => Promise<void>,
) {
  /**
   * Ends every session of the user at once: refresh tokens are revoked, and access tokens issued
   * up to the end of the current second are refused from now on.
   */
  async function endAllSessions(userId: string): Promise<void> {
    await sessions.revokeAllOfUser(userId);
    await users.revokeTokens(userId, new Date(Math.floor(Date.now() / 1000) * 1000 + 1000));
    await onSessionsEnded(userId);
  }

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

  /**
   * Tokens carry their issue time in whole seconds, and a revocation refuses every token issued
   * before its (whole-second) instant; a token for this user waits out that second, so a sign-in
   * just after a password change is not refused along with the sessions it ended.
   */
  async function afterRevocation(user: UserRow): Promise<void> {
    const wait = (user.tokens_valid_after?.getTime() ?? 0) - Date.now();
    if (wait > 0) await sleep(wait);
  }

  return {
    async login(email: string, password: string, caller: Caller): Promise<Tokens> {
      const user = await users.findByEmail(email);
      if (!user) {
        await verifyPassword(await DECOY_HASH, password);
        await recordEvent({ action: 'login.failed', ...caller, detail: { email, reason: 'unknown email' } });
        throw new AppError('unauthorized', WRONG);
      }
      if (!(await attempts.verify({ user, password, check: 'login', ...caller })))
        throw new AppError('unauthorized', WRONG);
      await recordEvent({ action: 'login.succeeded', principal: userPrincipal(user), ...caller });
      await afterRevocation(user);
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
      await afterRevocation(user);
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

    /**
     * Needs a password login (an API key cannot change it), counts as an attempt on the login
     * lockout, and ends every session and access token of the user, this one included.
     */
    async changePassword(principal: Principal, current: string, next: string, caller: Caller): Promise<void> {
      if (principal.kind !== 'user')
        throw new AppError('forbidden', 'A password is changed after a password login, not with an API key');
      const user = await users.findById(principal.userId);
      if (!user) throw new AppError('unauthorized', 'This account is disabled or gone');
      const right = await attempts.verify({
        user,
        password: current,
        check: 'password_change',
        principal,
        ...caller,
      });
      if (!right) {
        throw new AppError('invalid', 'The current password is wrong', {
          errors: [{ field: '/body/current_password', message: 'is wrong' }],
        });
      }
      assertStrongPassword(next, '/body/new_password');
      await users.setPassword(user.id, await hashPassword(next));
      await endAllSessions(user.id);
      await recordEvent({ action: 'password.changed', principal, ...caller });
    },

    revokeAllOfUser: (userId: string) => sessions.revokeAllOfUser(userId),
  };
}

export type SessionsService = ReturnType<typeof createSessionsService>;
