import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { isProcessAlive } from '@datalab/platform';
import { loginAt } from '../../../test/gateway.ts';
import {
  freePort,
  postmasterPid,
  queryOnce,
  spawnCommand,
  spawnTs,
  waitForStatus,
  type Spawned,
} from '../../../test/processes.ts';

const ADMIN = { email: 'first-admin@example.test', password: 'the first admin password' };
const SERVICES = ['api-gateway', 'data-service', 'ai-service', 'compute-service', 'viz-service'];

/**
 * Five consecutive free ports, as `datalab up` uses PORT..PORT+4: below the
 * ephemeral range, so ports other tests get from the kernel cannot land inside.
 */
async function freePortRange(): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 10000);
    const free = await Promise.all([0, 1, 2, 3, 4].map((offset) => canListen(base + offset)));
    if (free.every(Boolean)) return base;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function embeddedUrl(dataDir: string, port: number): Promise<string> {
  const { user, password } = JSON.parse(
    await readFile(path.join(dataDir, 'postgres-credentials.json'), 'utf8'),
  ) as {
    user: string;
    password: string;
  };
  return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/datalab`;
}

describe('datalab up (embedded mode, nothing configured)', () => {
  let dataDir: string;
  let base: number;
  let pgPort: number;
  let running: Spawned | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'datalab-up-'));
    base = await freePortRange();
    pgPort = await freePort();
  });
  afterEach(() => {
    if (!running?.child.pid || running.child.exitCode !== null) return;
    try {
      process.kill(-running.child.pid, 'SIGKILL');
    } catch {
      running.child.kill('SIGKILL');
    }
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const env = (): Record<string, string> => ({
    DATALAB_DATA_DIR: dataDir,
    PORT: String(base),
    DATALAB_EMBEDDED_PG_PORT: String(pgPort),
    DATALAB_ADMIN_EMAIL: ADMIN.email,
    DATALAB_ADMIN_PASSWORD: ADMIN.password,
  });

  function start(): Spawned {
    running = spawnTs('packages/cli/src/main.ts', ['up'], env());
    return running;
  }

  async function allReady(process: Spawned): Promise<void> {
    await Promise.all(
      SERVICES.map((_, offset) =>
        waitForStatus(`http://127.0.0.1:${base + offset}/health/ready`, 200, process, 30_000),
      ),
    );
  }

  it('starts all five services within 30 s from an empty directory, routes to them, and stops cleanly on SIGTERM', async () => {
    const started = Date.now();
    const up = start();
    await allReady(up);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(up.output()).toContain('DataLab');
    expect(up.output()).toContain('embedded mode');

    expect(up.output()).toContain(`Admin account created: ${ADMIN.email}`);
    const token = await loginAt(`http://127.0.0.1:${base}`, ADMIN);
    const servicesAnswer = await fetch(`http://127.0.0.1:${base}/api/v1/services`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const services = (await servicesAnswer.json()) as {
      services: { name: string; healthy: boolean }[];
    };
    expect(services.services.map((s) => [s.name, s.healthy])).toEqual([
      ['data-service', true],
      ['ai-service', true],
      ['compute-service', true],
      ['viz-service', true],
    ]);

    const openapi = (await (await fetch(`http://127.0.0.1:${base}/openapi.json`)).json()) as Record<
      string,
      unknown
    >;
    expect(openapi.info).toMatchObject({ title: 'DataLab API' });
    expect(Object.keys(openapi.paths as object)).toContain('/api/v1/services');
    expect(openapi['x-datalab-unavailable']).toBeUndefined();

    for (const [offset] of SERVICES.entries()) {
      // The gateway's port is public: there its metrics are for admins.
      const headers = offset === 0 ? { authorization: `Bearer ${token}` } : undefined;
      const metrics = await (await fetch(`http://127.0.0.1:${base + offset}/metrics`, { headers })).text();
      expect(metrics).toContain('http_request_duration_seconds_bucket');
    }

    await queryOnce(
      await embeddedUrl(dataDir, pgPort),
      "CREATE TABLE public.kept (note text); INSERT INTO public.kept VALUES ('first run')",
    );
    const postmaster = await postmasterPid(dataDir);

    up.child.kill('SIGTERM');
    expect(await up.exited).toEqual({ code: 0, signal: null });
    expect(isProcessAlive(postmaster)).toBe(false);
  });

  it('under `npm start` finds the data of the first run, and stops cleanly on Ctrl-C', async () => {
    const again = spawnCommand('npm', ['start'], env(), { group: true });
    running = again;
    await allReady(again);
    const rows = await queryOnce(await embeddedUrl(dataDir, pgPort), 'SELECT note FROM public.kept');
    expect(rows).toEqual([{ note: 'first run' }]);
    expect(again.output()).not.toContain('Admin account created');
    expect(await loginAt(`http://127.0.0.1:${base}`, ADMIN)).toMatch(/^ey/);
    const postmaster = await postmasterPid(dataDir);

    // Ctrl-C in a terminal signals the whole foreground process group: npm, DataLab and PostgreSQL.
    process.kill(-again.child.pid!, 'SIGINT');
    expect(await again.exited).toEqual({ code: 0, signal: null });
    expect(again.output()).toContain('"msg":"stopped"');
    expect(isProcessAlive(postmaster)).toBe(false);
  });
});

describe('bad configuration', () => {
  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [
      { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', DATABASE_CONNECT_TIMEOUT_MS: '1000' },
      'DATABASE_URL',
    ],
    [{ DATABASE_URL: 'mysql://somewhere/db' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'redis://127.0.0.1:1', DATABASE_URL: inject('databaseUrl') }, 'REDIS_URL'],
  ])('%o → one line naming %s, exit 1, no stack trace', async (env, variable) => {
    const run = spawnTs('packages/cli/src/main.ts', ['serve', 'data-service'], env);
    const exit = await run.exited;
    const lines = run
      .output()
      .trim()
      .split('\n')
      .filter((line) => !line.startsWith('npm warn'));

    expect(exit.code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^datalab: invalid configuration: ${variable} `));
    expect(run.output()).not.toMatch(/\n\s+at /);
  });
});
