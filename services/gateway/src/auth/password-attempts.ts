import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, type Principal } from '@datalab/platform';
import type { UserRow, UsersRepository } from '../users/users.repository.ts';
import { verifyPassword } from './passwords.ts';
import type { RecordSecurityEvent } from './security-events.ts';

export interface LockoutSettings {
  lockoutThreshold: number;
  lockoutMinutes: number;
}

/** Where a password is being checked, for the audit log. */
export type PasswordCheck = 'login' | 'password_change';

export interface Attempt {
  user: UserRow;
  password: string;
  check: PasswordCheck;
  ip: string;
  requestId: string;
  principal?: Principal;
}

/** After a few failures in a row each further attempt waits longer, up to 4 s, before it is answered. */
function slowDownMs(failures: number): number {
  return failures < 3 ? 0 : Math.min(250 * 2 ** (failures - 3), 4000);
}

/**
 * Every check of a user's password — at login and at a password change — is one counted attempt
 * on the same count, so neither can be used to guess beyond the lockout. The attempt is counted
 * before the password is checked, atomically, so parallel guesses cannot all pass the lock.
 */
export function createPasswordAttempts(
  users: UsersRepository,
  recordEvent: RecordSecurityEvent,
  settings: LockoutSettings,
) {
  async function refuseLocked(attempt: Attempt, lockedUntil: Date): Promise<never> {
    const seconds = Math.max(1, Math.ceil((lockedUntil.getTime() - Date.now()) / 1000));
    await recordEvent({
      action: 'login.locked',
      subjectUserId: attempt.user.id,
      principal: attempt.principal,
      ip: attempt.ip,
      requestId: attempt.requestId,
      detail: { check: attempt.check },
    });
    throw new AppError(
      'rate_limited',
      `Too many wrong passwords in a row (${settings.lockoutThreshold}): this account is locked; try again in ${Math.ceil(seconds / 60)} minute(s)`,
      { headers: { 'retry-after': String(seconds) }, extensions: { limit: settings.lockoutThreshold } },
    );
  }

  return {
    /**
     * True when the password is right and the account enabled; false (after the slow-down) when
     * not; 429 once the account is locked. A disabled account fails like a wrong password, whatever
     * the password, so the answer never tells whether a guess was right.
     */
    async verify(attempt: Attempt): Promise<boolean> {
      const { lockoutThreshold: threshold, lockoutMinutes: minutes } = settings;
      const claim = await users.claimAttempt(attempt.user.id, threshold, minutes);
      if (!claim) return false;
      if (claim.locked_until && claim.locked_until > new Date())
        return refuseLocked(attempt, claim.locked_until);
      const right = await verifyPassword(attempt.user.password_hash, attempt.password);
      if (right && !attempt.user.disabled_at) {
        await users.recordSuccessfulLogin(attempt.user.id);
        return true;
      }
      await recordEvent({
        action: 'login.failed',
        subjectUserId: attempt.user.id,
        principal: attempt.principal,
        ip: attempt.ip,
        requestId: attempt.requestId,
        detail: { email: attempt.user.email, check: attempt.check },
      });
      if (claim.attempt >= threshold)
        return refuseLocked(attempt, await users.lock(attempt.user.id, minutes));
      await sleep(slowDownMs(claim.attempt));
      return false;
    },
  };
}

export type PasswordAttempts = ReturnType<typeof createPasswordAttempts>;
