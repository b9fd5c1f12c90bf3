import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loginAt, userFactory, type TestUser } from '../gateway.ts';
import { inject } from 'vitest';
import { testEnv, uniqueName } from '../helpers.ts';
import { queryOnce, spawnTs, waitForStatus, type Spawned } from '../processes.ts';

/**
 * A whole DataLab as a user meets it: `datalab up` in its own process, on the test database,
 * with in-process jobs and in-memory adapters (no REDIS_URL, as the default start). The security
 * suite talks to it only over HTTP, through the gateway, so its tests outlive any rewrite behind it.
 */
export interface Stack {
  /** The gateway, e.g. http://127.0.0.1:47010 */
  url: string;
  /** PORT..PORT+4: gateway, data, ai, compute, viz. */
  ports: { gateway: number; data: number; ai: number; compute: number; viz: number };
  dataDir: string;
  process: Spawned;
  /** A new user of this role (written straight to the catalog: setup, not the thing under test). */
  createUser: (role: TestUser['role']) => Promise<TestUser>;
  login: (user: Pick<TestUser, 'email' | 'password'>) => Promise<string>;
  /** A user of this role, logged in. */
  signedIn: (role: TestUser['role']) => Promise<{ user: TestUser; token: string }>;
  /** Throws with what the process printed when it is no longer running. */
  assertAlive: () => void;
  /**
   * SIGTERM, as `npm start` gets it, then the same DataLab started again on the same database
   * and data directory: how the stop went, and how long it took.
   */
  restart: () => Promise<{
    exit: { code: number | null; signal: NodeJS.Signals | null };
    stopMs: number;
    output: string;
  }>;
  close: () => Promise<void>;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Five free consecutive ports in 46000–46999, the range this suite owns. */
async function portBase(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 46000 + 5 * Math.floor(Math.random() * 199);
    const free = await Promise.all([0, 1, 2, 3, 4].map((offset) => canListen(base + offset)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no five free consecutive ports in 46000-46999');
}

/**
 * A database of its own on the test server: every compute-service runs a scheduler and a
 * reconciler over the whole `compute` schema, so on a shared database one file's DataLab would run
 * another's queued jobs and fire its schedules under its own settings.
 */
async function ownDatabase(): Promise<{ urls: Record<string, string>; drop: () => Promise<void> }> {
  const server = inject('databaseUrl');
  const name = uniqueName('stack');
  await queryOnce(server, `CREATE DATABASE ${name}`);
  const on = (url: string): string => Object.assign(new URL(url), { pathname: `/${name}` }).toString();
  return {
    urls: { DATABASE_URL: on(server), QUERY_DATABASE_URL: on(inject('queryDatabaseUrl')) },
    drop: async () => {
      await queryOnce(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Starts a DataLab; `env` adds or overrides settings (small limits make refusals quick to reach). */
export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const base = await portBase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'datalab-security-'));
  const database = await ownDatabase();
  // No REDIS_URL unless a test gives one: the default start keeps its state in memory.
  const defaults: Record<string, string | undefined> = testEnv({
    ...database.urls,
    PORT: String(base),
    DATALAB_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    // The UI is not under test here; an empty folder keeps `up` from building it.
    WEB_DIST_DIR: dataDir,
    UPSTREAM_HEALTH_INTERVAL_MS: '1000',
    REGISTRY_HEARTBEAT_MS: '1000',
  });
  delete defaults.REDIS_URL;
  const baseEnv = { ...defaults, ...env };
  let spawned = spawnTs('packages/cli/src/main.ts', ['up'], baseEnv);
  const url = `http://127.0.0.1:${base}`;
  try {
    await waitForStatus(`${url}/health/ready`, 200, spawned, 120_000);
  } catch (error) {
    spawned.child.kill('SIGKILL');
    await spawned.exited;
    await rm(dataDir, { recursive: true, force: true });
    await database.drop();
    throw error;
  }
  const users = await userFactory(String(baseEnv.DATABASE_URL));
  const login = (user: Pick<TestUser, 'email' | 'password'>) => loginAt(url, user);
  return {
    url,
    ports: { gateway: base, data: base + 1, ai: base + 2, compute: base + 3, viz: base + 4 },
    dataDir,
    get process() {
      return spawned;
    },
    createUser: users.create,
    login,
    signedIn: async (role) => {
      const user = await users.create(role);
      return { user, token: await login(user) };
    },
    assertAlive: () => {
      if (spawned.child.exitCode !== null || spawned.child.signalCode !== null)
        throw new Error(`DataLab is no longer running:\n${spawned.output()}`);
    },
    restart: async () => {
      const stopping = Date.now();
      spawned.child.kill('SIGTERM');
      const exit = await spawned.exited;
      const stopped = { exit, stopMs: Date.now() - stopping, output: spawned.output() };
      spawned = spawnTs('packages/cli/src/main.ts', ['up'], baseEnv);
      await waitForStatus(`${url}/health/ready`, 200, spawned, 120_000);
      return stopped;
    },
    close: async () => {
      await users.close();
      spawned.child.kill('SIGTERM');
      const stopped = await Promise.race([
        spawned.exited,
        new Promise((resolve) => setTimeout(resolve, 15_000, 'timeout')),
      ]);
      if (stopped === 'timeout') {
        spawned.child.kill('SIGKILL');
        await spawned.exited;
      }
      await rm(dataDir, { recursive: true, force: true });
      await database.drop();
    },
  };
}

/** The fields of an RFC 9457 answer. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  [field: string]: unknown;
}

/** Reads an answer that must be problem+json with this status; throws (with the body) otherwise. */
export async function expectProblem(response: Response, status: number): Promise<Problem> {
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  if (response.status !== status || !type.startsWith('application/problem+json'))
    throw new Error(`expected ${status} problem+json, got ${response.status} ${type}: ${text.slice(0, 500)}`);
  const problem = JSON.parse(text) as Problem;
  if (problem.status !== status) throw new Error(`problem body says status ${problem.status}: ${text}`);
  return problem;
}

/** Headers for a bearer token, with a JSON content type when `json` is set. */
export function bearer(token: string, json = false): Record<string, string> {
  return { authorization: `Bearer ${token}`, ...(json ? { 'content-type': 'application/json' } : {}) };
}
