import type { Pool, Role } from '@datalab/platform';

export interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  role: Role;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  created_at: Date;
}

/** A key with its owner's email, which the principal carries (role and status are checked apart). */
export interface ApiKeyWithOwner extends ApiKeyRow {
  owner_email: string;
}

export interface NewApiKey {
  userId: string;
  name: string;
  prefix: string;
  hash: Buffer;
  role: Role;
  expiresAt: Date | null;
}

const COLUMNS =
  'k.id, k.user_id, k.name, k.prefix, k.role, k.expires_at, k.revoked_at, k.last_used_at, k.created_at';

export function createApiKeysRepository(pool: Pool) {
  return {
    /**
     * Inserts the key unless its owner already has `cap` keys in use (neither revoked nor expired):
     * then answers how many. The owner's row is locked meanwhile, so parallel creations cannot
     * together pass the cap.
     */
    async insertWithinCap(key: NewApiKey, cap: number): Promise<{ row: ApiKeyRow } | { inUse: number }> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT 1 FROM auth.users WHERE id = $1 FOR UPDATE', [key.userId]);
        const counted = await client.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM auth.api_keys
           WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
          [key.userId],
        );
        const inUse = counted.rows[0]?.n ?? 0;
        if (inUse >= cap) {
          await client.query('ROLLBACK');
          return { inUse };
        }
        const result = await client.query<ApiKeyRow>(
          `INSERT INTO auth.api_keys AS k (user_id, name, prefix, key_hash, role, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
          [key.userId, key.name, key.prefix, key.hash, key.role, key.expiresAt],
        );
        await client.query('COMMIT');
        return { row: result.rows[0]! };
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    },

    async listOfUser(userId: string): Promise<ApiKeyRow[]> {
      const result = await pool.query<ApiKeyRow>(
        `SELECT ${COLUMNS} FROM auth.api_keys k WHERE k.user_id = $1 ORDER BY k.created_at DESC`,
        [userId],
      );
      return result.rows;
    },

    async findById(id: string): Promise<ApiKeyRow | undefined> {
      const result = await pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM auth.api_keys k WHERE k.id = $1`, [
        id,
      ]);
      return result.rows[0];
    },

    async findByHash(hash: Buffer): Promise<ApiKeyWithOwner | undefined> {
      const result = await pool.query<ApiKeyWithOwner>(
        `SELECT ${COLUMNS}, u.email AS owner_email
         FROM auth.api_keys k JOIN auth.users u ON u.id = k.user_id WHERE k.key_hash = $1`,
        [hash],
      );
      return result.rows[0];
    },

    async revoke(id: string): Promise<ApiKeyRow | undefined> {
      const result = await pool.query<ApiKeyRow>(
        `UPDATE auth.api_keys k SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING ${COLUMNS}`,
        [id],
      );
      return result.rows[0];
    },

    async touch(id: string): Promise<void> {
      await pool.query('UPDATE auth.api_keys SET last_used_at = now() WHERE id = $1', [id]);
    },
  };
}

export type ApiKeysRepository = ReturnType<typeof createApiKeysRepository>;
