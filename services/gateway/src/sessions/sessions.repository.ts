import type { Pool } from '@datalab/platform';

export interface RefreshTokenRow {
  id: string;
  family_id: string;
  user_id: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
}

export function createSessionsRepository(pool: Pool) {
  return {
    async insert(familyId: string, userId: string, tokenHash: Buffer, expiresAt: Date): Promise<void> {
      await pool.query(
        'INSERT INTO auth.refresh_tokens (family_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)',
        [familyId, userId, tokenHash, expiresAt],
      );
    },

    async findByHash(tokenHash: Buffer): Promise<RefreshTokenRow | undefined> {
      const result = await pool.query<RefreshTokenRow>(
        'SELECT id, family_id, user_id, expires_at, used_at, revoked_at FROM auth.refresh_tokens WHERE token_hash = $1',
        [tokenHash],
      );
      return result.rows[0];
    },

    /**
     * Spends a token and issues its successor in one transaction. `false` when
     * the token was spent meanwhile (a concurrent refresh won): that is reuse.
     */
    async rotate(spent: RefreshTokenRow, nextHash: Buffer): Promise<boolean> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const claimed = await client.query(
          'UPDATE auth.refresh_tokens SET used_at = now() WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL',
          [spent.id],
        );
        if (claimed.rowCount !== 1) {
          await client.query('ROLLBACK');
          return false;
        }
        await client.query(
          'INSERT INTO auth.refresh_tokens (family_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)',
          [spent.family_id, spent.user_id, nextHash, spent.expires_at],
        );
        await client.query('COMMIT');
        return true;
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    },

    async revokeFamily(familyId: string): Promise<void> {
      await pool.query(
        'UPDATE auth.refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL',
        [familyId],
      );
    },

    async revokeAllOfUser(userId: string): Promise<void> {
      await pool.query(
        'UPDATE auth.refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL',
        [userId],
      );
    },
  };
}

export type SessionsRepository = ReturnType<typeof createSessionsRepository>;
