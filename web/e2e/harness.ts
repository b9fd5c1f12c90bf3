import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { userFactory, type TestUser } from '../../test/gateway.ts';
import { testEnv } from '../../test/helpers.ts';
import { repoRoot, spawnTs, waitForStatus, type Spawned } from '../../test/processes.ts';

/** Debian's Chromium, as CI installs it; playwright-core downloads no browser of its own. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const SCREENSHOTS = path.join(repoRoot, 'test-output', 'screenshots');

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Five free consecutive ports (PORT..PORT+4) in 47000–47999, the range these browser tests own. */
async function portBase(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 47000 + 5 * Math.floor(Math.random() * 199);
    const free = await Promise.all([0, 1, 2, 3, 4].map((offset) => canListen(base + offset)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no five free consecutive ports in 47000-47999');
}

export interface RunningDataLab {
  url: string;
  users: { create: (role: TestUser['role']) => Promise<TestUser> };
  browser: Browser;
  close: () => Promise<void>;
}

/**
 * A real DataLab (`datalab up`, which also builds the web UI when it is missing
 * or stale) on the test database, and a headless Chromium to drive it.
 */
export async function startDataLab(): Promise<RunningDataLab> {
  const base = await portBase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'datalab-web-e2e-'));
  // No REDIS_URL: in-process jobs and in-memory events, so the journey needs no Redis of its own.
  const { REDIS_URL: _redis, ...env } = testEnv({
    PORT: String(base),
    DATALAB_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    // The defaults, not the unit tests' 200 ms: a busy machine must not mark a service down mid-journey.
    UPSTREAM_HEALTH_INTERVAL_MS: '2000',
    REGISTRY_HEARTBEAT_MS: '5000',
  });
  const up: Spawned = spawnTs('packages/cli/src/main.ts', ['up'], env);
  const url = `http://127.0.0.1:${base}`;
  let users: Awaited<ReturnType<typeof userFactory>> | undefined;
  let browser: Browser;
  try {
    await waitForStatus(`${url}/health/ready`, 200, up, 120_000);
    // `up` builds the UI beside the services' start when the checkout has no fresh build.
    await waitForStatus(`${url}/`, 200, up, 180_000);
    users = await userFactory(String(env.DATABASE_URL));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    await mkdir(SCREENSHOTS, { recursive: true });
  } catch (error) {
    // Nothing else would stop it: a browser that fails to start must not leave DataLab running.
    await users?.close();
    up.child.kill('SIGKILL');
    throw error;
  }
  return {
    url,
    users,
    browser,
    close: async () => {
      await browser.close();
      await users.close();
      up.child.kill('SIGTERM');
      const stopped = await Promise.race([
        up.exited,
        new Promise((resolve) => setTimeout(resolve, 15_000, 'timeout')),
      ]);
      if (stopped === 'timeout') up.child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A full-page screenshot under test-output/screenshots/, named for the page it shows. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Signs in through the login form, as a person would. */
export async function signIn(
  page: Page,
  url: string,
  user: Pick<TestUser, 'email' | 'password'>,
): Promise<void> {
  await page.goto(`${url}/login`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Datasets', level: 1 }).waitFor();
}
