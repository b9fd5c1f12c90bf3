import type { Pool } from '@datalab/platform';
import type { Role } from '@datalab/platform';

export interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  role: Role;
  disabled_at: Date | null;
  failed_logins: number;
  locked_until: Date | null;
  /** Access tokens issued before this instant are refused. */
  tokens_valid_after: Date | null;
  created_at: Date;
}

/** Where a sign-in attempt stands once it is counted. */
export interface AttemptClaim {
  /** This attempt's number among the failures in a row (it counts as one until it succeeds). */
  attempt: number;
  locked_until: Date | null;
}

const COLUMNS =
  'id, email, password_hash, role, disabled_at, failed_logins, locked_until, tokens_valid_after, created_at';

export function createUsersRepository(pool: Pool) {
  return {
    async count(): Promise<number> {
      const result = await pool.query<{ n: string }>('SELECT count(*) AS n FROM auth.users');
      return Number(result.rows[0]?.n ?? 0);
    },

    async findByEmail(email: string): Promise<UserRow | undefined> {
      const result = await pool.query<UserRow>(
        `SELECT ${COLUMNS} FROM auth.users WHERE lower(email) = lower($1)`,
        [email],
      );
      return result.rows[0];
    },

    async findById(id: string): Promise<UserRow | undefined> {
      const result = await pool.query<UserRow>(`SELECT ${COLUMNS} FROM auth.users WHERE id = $1`, [id]);
      return result.rows[0];
    },

    /** `undefined` when the email is taken. */
    async insert(email: string, passwordHash: string, role: Role): Promise<UserRow | undefined> {
      const result = await pool.query<UserRow>(
        `INSERT INTO auth.users (email, password_hash, role) VALUES ($1, $2, $3)
         ON CONFLICT ((lower(email))) DO NOTHING RETURNING ${COLUMNS}`,
        [email, passwordHash, role],
      );
      return result.rows[0];
    },

    async list(limit: number, offset: number): Promise<{ rows: UserRow[]; total: number }> {
      const [rows, total] = await Promise.all([
        pool.query<UserRow>(`SELECT ${COLUMNS} FROM auth.users ORDER BY created_at, id LIMIT $1 OFFSET $2`, [
          limit,
          offset,
        ]),
        this.count(),
      ]);
      return { rows: rows.rows, total };
    },

    async update(id: string, changes: { role?: Role; disabled?: boolean }): Promise<UserRow | undefined> {
      const result = await pool.query<UserRow>(
        `UPDATE auth.users SET
           role = COALESCE($2, role),
           disabled_at = CASE WHEN $3::boolean IS NULL THEN disabled_at
                              WHEN $3 THEN COALESCE(disabled_at, now()) ELSE NULL END,
           updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, changes.role ?? null, changes.disabled ?? null],
      );
      return result.rows[0];
    },

    async setPassword(id: string, passwordHash: string): Promise<void> {
      await pool.query(
        `UPDATE auth.users SET password_hash = $2, password_changed_at = now(), updated_at = now() WHERE id = $1`,
        [id, passwordHash],
      );
    },

    /**
     * Counts an attempt as a failure before its password is checked, in one row-locked UPDATE, so
     * parallel attempts each see their own number: past `threshold` the account locks, and
     * attempts beyond it are refused without a check. A lock that has run out starts a new count.
     */
    async claimAttempt(
      id: string,
      threshold: number,
      lockMinutes: number,
    ): Promise<AttemptClaim | undefined> {
      const result = await pool.query<AttemptClaim>(
        `UPDATE auth.users SET
           failed_logins = CASE WHEN locked_until > now() THEN failed_logins
                                WHEN locked_until IS NOT NULL THEN 1
                                ELSE failed_logins + 1 END,
           locked_until = CASE WHEN locked_until > now() THEN locked_until
                               WHEN locked_until IS NOT NULL THEN NULL
                               WHEN failed_logins + 1 > $2 THEN now() + make_interval(mins => $3)
                               ELSE NULL END
         WHERE id = $1 RETURNING failed_logins AS attempt, locked_until`,
        [id, threshold, lockMinutes],
      );
      return result.rows[0];
    },

    /** Locks the account now (the attempt that reached the threshold failed). */
    async lock(id: string, lockMinutes: number): Promise<Date> {
      const result = await pool.query<{ locked_until: Date }>(
        `UPDATE auth.users SET locked_until = now() + make_interval(mins => $2) WHERE id = $1
         RETURNING locked_until`,
        [id, lockMinutes],
      );
      return result.rows[0]?.locked_until ?? new Date();
    },

    /** Refuses every access token issued before `after` (a whole second: tokens carry seconds). */
    async revokeTokens(id: string, after: Date): Promise<void> {
      await pool.query('UPDATE auth.users SET tokens_valid_after = $2, updated_at = now() WHERE id = $1', [
        id,
        after,
      ]);
    },

    async recordSuccessfulLogin(id: string): Promise<void> {
      await pool.query('UPDATE auth.users SET failed_logins = 0, locked_until = NULL WHERE id = $1', [id]);
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
