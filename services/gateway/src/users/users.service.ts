import { randomBytes } from 'node:crypto';
import { AppError, type Principal, type Role } from '@datalab/platform';
import { assertStrongPassword, hashPassword } from '../auth/passwords.ts';
import type { RecordSecurityEvent } from '../auth/security-events.ts';
import type { User } from './users.schemas.ts';
import type { UserRow, UsersRepository } from './users.repository.ts';

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    disabled: row.disabled_at !== null,
    locked_until: row.locked_until && row.locked_until > new Date() ? row.locked_until.toISOString() : null,
    created_at: row.created_at.toISOString(),
  };
}

export interface RequestContext {
  principal: Principal;
  ip: string;
  requestId: string;
}

/**
 * `onChanged` runs after a role or status change, so cached copies of the user
 * (the authenticator's) are dropped and, when disabled, sessions end.
 */
export function createUsersService(
  users: UsersRepository,
  recordEvent: RecordSecurityEvent,
  onChanged: (userId: string, disabled: boolean) => Promise<void>,
) {
  return {
    async create(context: RequestContext, email: string, password: string, role: Role): Promise<User> {
      assertStrongPassword(password, '/body/password');
      const row = await users.insert(email, await hashPassword(password), role);
      if (!row) throw new AppError('conflict', `A user with the email ${email} exists already`);
      await recordEvent({
        action: 'user.created',
        principal: context.principal,
        subjectUserId: row.id,
        ip: context.ip,
        requestId: context.requestId,
        detail: { role },
      });
      return toUser(row);
    },

    async list(limit: number, offset: number): Promise<{ users: User[]; total: number }> {
      const { rows, total } = await users.list(limit, offset);
      return { users: rows.map(toUser), total };
    },

    async update(
      context: RequestContext,
      id: string,
      changes: { role?: Role; disabled?: boolean },
    ): Promise<User> {
      const before = await users.findById(id);
      if (!before) throw new AppError('not_found', 'User not found');
      if (
        id === context.principal.userId &&
        (changes.disabled === true || (changes.role && changes.role !== 'admin'))
      ) {
        throw new AppError('conflict', 'Admins cannot disable or demote themselves; ask another admin');
      }
      const after = (await users.update(id, changes))!;
      await onChanged(id, after.disabled_at !== null);
      const base = {
        principal: context.principal,
        subjectUserId: id,
        ip: context.ip,
        requestId: context.requestId,
      };
      if (changes.role && changes.role !== before.role) {
        await recordEvent({
          ...base,
          action: 'user.role_changed',
          detail: { from: before.role, to: changes.role },
        });
      }
      if (changes.disabled !== undefined && changes.disabled !== (before.disabled_at !== null)) {
        await recordEvent({ ...base, action: changes.disabled ? 'user.disabled' : 'user.enabled' });
      }
      return toUser(after);
    },

    /**
     * The first start creates an admin, never with a default password: the
     * configured one, or a generated one returned once to be printed.
     */
    async ensureAdmin(email: string, password: string | undefined): Promise<string[]> {
      if ((await users.count()) > 0) return [];
      const chosen = password ?? randomBytes(18).toString('base64url');
      if (password) assertStrongPassword(password, 'DATALAB_ADMIN_PASSWORD');
      const row = await users.insert(email, await hashPassword(chosen), 'admin');
      if (!row) return [];
      return password
        ? [`Admin account created: ${email} (password from DATALAB_ADMIN_PASSWORD)`]
        : [`Admin account created: ${email}  password: ${chosen}  (shown once: change it after logging in)`];
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
