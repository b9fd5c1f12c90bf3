import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Pool, PoolClient } from './database.ts';

export interface MigrationOptions {
  /** The service's own schema; it holds the `schema_migrations` table. */
  schema: string;
  /** Folder of `NNNN_name.sql` files, applied in name order. */
  directory: string;
  logger: Logger;
}

interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

async function readMigrations(directory: string): Promise<Migration[]> {
  const files = (await readdir(directory)).filter((file) => file.endsWith('.sql')).sort();
  return Promise.all(
    files.map(async (name) => {
      const sql = await readFile(path.join(directory, name), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

async function appliedChecksums(client: PoolClient, schema: string): Promise<Map<string, string>> {
  const result = await client.query<{ name: string; checksum: string }>(
    `SELECT name, checksum FROM ${schema}.schema_migrations`,
  );
  return new Map(result.rows.map((row) => [row.name, row.checksum]));
}

async function apply(client: PoolClient, schema: string, migration: Migration): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(migration.sql);
    await client.query(`INSERT INTO ${schema}.schema_migrations (name, checksum) VALUES ($1, $2)`, [
      migration.name,
      migration.checksum,
    ]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`migration ${schema}/${migration.name} failed: ${reason}`, { cause: error });
  }
}

/**
 * Applies the pending migrations of one schema. Idempotent, and safe when
 * several instances start at once: a transaction-independent advisory lock
 * keyed by the schema lets one instance migrate while the others wait.
 * An applied migration whose file changed is refused rather than re-run.
 */
export async function migrate(pool: Pool, options: MigrationOptions): Promise<string[]> {
  const { schema } = options;
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
  const migrations = await readMigrations(options.directory);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`datalab.migrate.${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
         name text PRIMARY KEY,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const applied = await appliedChecksums(client, schema);
    const done: string[] = [];
    for (const migration of migrations) {
      const checksum = applied.get(migration.name);
      if (checksum === migration.checksum) continue;
      if (checksum !== undefined) {
        throw new Error(`migration ${schema}/${migration.name} was changed after it was applied`);
      }
      await apply(client, schema, migration);
      done.push(migration.name);
      options.logger.info({ schema, migration: migration.name }, 'migration applied');
    }
    return done;
  } finally {
    // If unlocking fails the connection is destroyed, which releases the lock with it.
    const unlocked = await client
      .query('SELECT pg_advisory_unlock(hashtext($1))', [`datalab.migrate.${schema}`])
      .then(() => true)
      .catch(() => false);
    client.release(!unlocked);
  }
}
