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

/** A key with what authentication needs of its owner. */
export interface ApiKeyWithOwner extends ApiKeyRow {
  owner_email: string;
  owner_role: Role;
  owner_disabled: boolean;
}

const COLUMNS =
  'k.id, k.user_id, k.name, k.prefix, k.role, k.expires_at, k.revoked_at, k.last_used_at, k.created_at';

export function createApiKeysRepository(pool: Pool) {
  return {
    async insert(key: {
      userId: string;
      name: string;
      prefix: string;
      hash: Buffer;
      role: Role;
      expiresAt: Date | null;
    }): Promise<ApiKeyRow> {
      const result = await pool.query<ApiKeyRow>(
        `INSERT INTO auth.api_keys AS k (user_id, name, prefix, key_hash, role, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [key.userId, key.name, key.prefix, key.hash, key.role, key.expiresAt],
      );
      return result.rows[0]!;
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
        `SELECT ${COLUMNS}, u.email AS owner_email, u.role AS owner_role, u.disabled_at IS NOT NULL AS owner_disabled
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
