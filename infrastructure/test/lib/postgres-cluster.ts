import { execFile } from 'node:child_process';
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** Debian's PostgreSQL 15 server binaries (package postgresql-15). */
export const PG_BIN = '/usr/lib/postgresql/15/bin';
const POSTGRES_USER = 'postgres';

/** PostgreSQL refuses to run as root: as root, commands run as the postgres user. */
export async function asPostgres(command: string, args: string[]): Promise<string> {
  const isRoot = process.getuid?.() === 0;
  const [file, argv] = isRoot ? ['runuser', ['-u', POSTGRES_USER, '--', command, ...args]] : [command, args];
  const { stdout } = await run(file, argv, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** A temporary directory the postgres user owns (when we are root). */
export async function postgresTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', POSTGRES_USER]);
    const { stdout: gid } = await run('id', ['-g', POSTGRES_USER]);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  return dir;
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export interface Node {
  dataDir: string;
  port: number;
  url: string;
  start: () => Promise<void>;
  stop: () => Promise<void>;
}

/** A node whose data directory exists (initdb, base backup or restore made it). */
export function node(dataDir: string, port: number, socketDir: string): Node {
  const pgCtl = path.join(PG_BIN, 'pg_ctl');
  return {
    dataDir,
    port,
    url: `postgres://${POSTGRES_USER}@127.0.0.1:${port}/postgres`,
    start: async () => {
      await asPostgres(pgCtl, [
        'start',
        '-w',
        '-t',
        '60',
        '-D',
        dataDir,
        '-l',
        path.join(socketDir, `pg-${port}.log`),
        '-o',
        `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1`,
      ]);
    },
    stop: async () => {
      await asPostgres(pgCtl, ['stop', '-w', '-m', 'fast', '-D', dataDir]).catch(() => undefined);
    },
  };
}

/** initdb with trust on loopback (local replication included) and `settings` appended to postgresql.conf. */
export async function initPrimary(dataDir: string, settings: Record<string, string>): Promise<void> {
  await asPostgres(path.join(PG_BIN, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    POSTGRES_USER,
    '-A',
    'trust',
    '--no-sync',
  ]);
  const lines = Object.entries(settings).map(([key, value]) => `${key} = '${value.replace(/'/g, "''")}'`);
  await asPostgres('sh', ['-c', `printf '%s\\n' "$@" >> ${dataDir}/postgresql.conf`, 'sh', ...lines]);
  await asPostgres('sh', [
    '-c',
    `printf '%s\\n' 'host replication all 127.0.0.1/32 trust' >> ${dataDir}/pg_hba.conf`,
  ]);
}

/** A streaming replica of `primary`: pg_basebackup with -R writes primary_conninfo and standby.signal. */
export async function baseBackup(primary: Node, dataDir: string): Promise<void> {
  await asPostgres(path.join(PG_BIN, 'pg_basebackup'), [
    '-h',
    '127.0.0.1',
    '-p',
    String(primary.port),
    '-U',
    POSTGRES_USER,
    '-D',
    dataDir,
    '-R',
    '-X',
    'stream',
    '--no-sync',
  ]);
}

export async function query<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** Writes a file the postgres user can read (pgBackRest's configuration). */
export async function writeConfig(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text, { mode: 0o644 });
}
