import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connectDatabase, createLogger } from '@datalab/platform';
import { hashPassword } from '../../services/gateway/src/auth/passwords.ts';
import { createUsersRepository } from '../../services/gateway/src/users/users.repository.ts';
import type { Cleanup } from './processes.ts';

/** The PostgreSQL side of a bench stack: a database of its own and a user to log in as. */

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** `serverUrl` pointed at database `name`, optionally as another (password-less, trust) user. */
export function withDatabase(serverUrl: string, name: string, user?: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  if (user) {
    url.username = user;
    url.password = '';
  }
  return url.toString();
}

/** A new, empty database for this run (`<prefix>_<time>`), dropped by the cleanup; returns its name. */
export async function createDatabase(serverUrl: string, prefix: string, cleanup: Cleanup): Promise<string> {
  const name = `${prefix}_${Date.now()}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  cleanup.add(() =>
    withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  );
  return name;
}

/** An editor straight into the gateway's tables, with a random password. */
export async function createBenchUser(
  databaseUrl: string,
): Promise<{ id: string; email: string; password: string }> {
  const db = await connectDatabase({
    url: databaseUrl,
    poolSize: 1,
    connectTimeoutMs: 5000,
    applicationName: 'datalab-bench',
    logger: createLogger({ level: 'silent' }),
  });
  try {
    const email = 'bench@example.test';
    const password = randomBytes(18).toString('base64url');
    const row = await createUsersRepository(db.pool).insert(email, await hashPassword(password), 'editor');
    if (!row) throw new Error(`${email} exists already in a new database`);
    return { id: row.id, email, password };
  } finally {
    await db.close();
  }
}
