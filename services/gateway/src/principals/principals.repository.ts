import type { Pool, Role } from '@datalab/platform';

export interface PrincipalRow {
  id: string;
  email: string;
  role: Role;
  disabled: boolean;
  /** The API key asked about, when it is this user's. */
  key_id: string | null;
  key_state: 'active' | 'revoked' | 'expired' | null;
}

/** A user's current role and status, and one of their API keys: what the services ask about a principal. */
export function createPrincipalsRepository(pool: Pool) {
  return {
    /** On the primary: a replica's lag could show a user enabled after they were disabled. */
    async find(userId: string, apiKeyId: string | undefined): Promise<PrincipalRow | undefined> {
      const result = await pool.query<PrincipalRow>(
        `SELECT u.id, u.email, u.role, u.disabled_at IS NOT NULL AS disabled, k.id AS key_id,
           CASE WHEN k.id IS NULL THEN NULL
                WHEN k.revoked_at IS NOT NULL THEN 'revoked'
                WHEN k.expires_at <= now() THEN 'expired'
                ELSE 'active' END AS key_state
         FROM auth.users u LEFT JOIN auth.api_keys k ON k.id = $2 AND k.user_id = u.id
         WHERE u.id = $1`,
        [userId, apiKeyId ?? null],
      );
      return result.rows[0];
    },
  };
}
