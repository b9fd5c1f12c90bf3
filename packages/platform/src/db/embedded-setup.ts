import pg from 'pg';

/** What a new embedded cluster needs inside it: the DataLab database and the restricted query login. */

/** Creates `database` unless it exists (the name is ours, a constant, never user text). */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${database}`);
  } finally {
    await client.end();
  }
}

/**
 * User SQL runs as its own login role, a member of datalab_reader only: unlike
 * SET ROLE on the service's own connection, nothing in a query can switch back
 * to a more privileged role. The login may SET temp_file_limit (PostgreSQL 15
 * or later), so each query gets the limit the service is configured with; the
 * reader role it switches to may not, so a query cannot raise it. Run as a
 * superuser, as an operator would; without `password` the login gets none
 * (trust authentication, as in tests and benches).
 */
export async function ensureQueryRole(databaseUrl: string, password?: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `DO $$ BEGIN CREATE ROLE datalab_reader NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`,
    );
    await client.query(
      `DO $$ BEGIN CREATE ROLE datalab_query LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`,
    );
    const credentials = password === undefined ? '' : ` PASSWORD ${client.escapeLiteral(password)}`;
    await client.query(
      `ALTER ROLE datalab_query WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE${credentials}`,
    );
    await client.query('GRANT datalab_reader TO datalab_query');
    await client.query('GRANT SET ON PARAMETER temp_file_limit TO datalab_query');
  } finally {
    await client.end();
  }
}
