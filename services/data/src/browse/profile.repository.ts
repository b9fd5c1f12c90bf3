import type { Pool, PoolClient } from '@datalab/platform';
import type { DatasetProfile } from './browse.schemas.ts';

/** Profiles as stored: one per dataset version, in `data.profiles`. */

export type ProfileBody = Omit<DatasetProfile, 'computed_at'>;

export interface StoredProfile {
  profile: ProfileBody;
  computedAt: Date;
}

type Queryable = Pool | PoolClient;

export function createProfileRepository(pool: Pool, readPool: Pool) {
  return {
    /**
     * The version's stored profile. One sampled before profiles became exact
     * (`sampled: true`) counts as none, so it is computed again, exactly.
     */
    async stored(
      datasetId: string,
      version: number,
      db: Queryable = readPool,
    ): Promise<StoredProfile | undefined> {
      const result = await db.query<{ profile: ProfileBody; computed_at: Date }>(
        `SELECT profile, computed_at FROM data.profiles
         WHERE dataset_id = $1 AND version = $2 AND profile->>'sampled' IS DISTINCT FROM 'true'`,
        [datasetId, version],
      );
      const row = result.rows[0];
      return row && { profile: row.profile, computedAt: row.computed_at };
    },

    /** Stores a version's profile; those of older versions describe rows that are gone. */
    async save(db: PoolClient, profile: ProfileBody): Promise<StoredProfile> {
      await db.query('DELETE FROM data.profiles WHERE dataset_id = $1 AND version < $2', [
        profile.dataset_id,
        profile.version,
      ]);
      // A sampled profile of this version may be stored from before: the exact one replaces it.
      const result = await db.query<{ computed_at: Date }>(
        `INSERT INTO data.profiles (dataset_id, version, profile) VALUES ($1, $2, $3)
         ON CONFLICT (dataset_id, version) DO UPDATE SET profile = EXCLUDED.profile, computed_at = now()
         RETURNING computed_at`,
        [profile.dataset_id, profile.version, JSON.stringify(profile)],
      );
      return { profile, computedAt: result.rows[0]!.computed_at };
    },

    /**
     * Stores a profile computed outside the lock (the `profile` job) as its
     * version's, unless the dataset moved on meanwhile; older versions' go.
     * Answers whether it was stored.
     */
    async saveIfCurrent(profile: ProfileBody): Promise<boolean> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const stored = await client.query(
          `INSERT INTO data.profiles (dataset_id, version, profile)
           SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM data.datasets WHERE id = $1 AND version = $2)
           ON CONFLICT (dataset_id, version) DO UPDATE SET profile = EXCLUDED.profile, computed_at = now()`,
          [profile.dataset_id, profile.version, JSON.stringify(profile)],
        );
        await client.query('DELETE FROM data.profiles WHERE dataset_id = $1 AND version < $2', [
          profile.dataset_id,
          profile.version,
        ]);
        await client.query('COMMIT');
        return (stored.rowCount ?? 0) > 0;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },

    /**
     * Runs `work` on the primary while holding the dataset's profile lock, in
     * one REPEATABLE READ transaction: concurrent first requests queue up instead
     * of computing the same profile twice, and the catalog entry read under the
     * lock names the version (and its files) that the profile describes. The
     * lock is taken before the transaction starts so that its snapshot
     * includes what the previous holder committed.
     */
    async exclusive<T>(datasetId: string, work: (db: PoolClient) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      const key = [datasetId];
      try {
        await client.query("SELECT pg_advisory_lock(hashtext('datalab.profile'), hashtext($1))", key);
      } catch (error) {
        client.release(true);
        throw error;
      }
      // A connection left in an unknown state (transaction, lock) is closed rather than reused.
      let broken = false;
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw error;
      } finally {
        await client
          .query("SELECT pg_advisory_unlock(hashtext('datalab.profile'), hashtext($1))", key)
          .catch(() => {
            broken = true;
          });
        client.release(broken);
      }
    },
  };
}

export type ProfileRepository = ReturnType<typeof createProfileRepository>;
