import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** <repo>/web in a source checkout. */
export const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../web');

async function newestMtime(target: string): Promise<number> {
  const info = await stat(target).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const entries = await readdir(target);
  const times = await Promise.all(entries.map((entry) => newestMtime(path.join(target, entry))));
  return Math.max(info.mtimeMs, ...times);
}

/** The build is missing, or a source file changed after it was made. */
export async function webBuildIsStale(webDir: string): Promise<boolean> {
  const built = await stat(path.join(webDir, 'dist', 'index.html')).catch(() => undefined);
  if (!built) return true;
  const sources = ['src', 'index.html', 'vite.config.ts', 'package.json'].map((name) =>
    path.join(webDir, name),
  );
  const newest = Math.max(...(await Promise.all(sources.map(newestMtime))));
  return newest > built.mtimeMs;
}

/** vite's command-line entry, as npm installed it for the web workspace (its package exports hide bin/). */
function findViteBin(webDir: string): string | undefined {
  let entry: string;
  try {
    entry = createRequire(path.join(webDir, 'package.json')).resolve('vite');
  } catch {
    return undefined;
  }
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (path.basename(dir) === 'vite' && existsSync(path.join(dir, 'bin', 'vite.js')))
      return path.join(dir, 'bin', 'vite.js');
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One build at a time per checkout (several `datalab up` may start at once, as
 * tests do): a lock file holding the builder's pid; a dead builder's lock is
 * taken over. Whoever gets the lock builds only if the build is still stale.
 */
async function withBuildLock(scratch: string, build: () => Promise<void>, webDir: string): Promise<void> {
  const lock = path.join(scratch, 'lock');
  for (;;) {
    const handle = await open(lock, 'wx').catch(() => undefined);
    if (handle) {
      try {
        await handle.writeFile(String(process.pid));
        await handle.close();
        // What a builder that died left behind: only the lock holder writes here.
        for (const entry of await readdir(scratch))
          if (entry !== 'lock') await rm(path.join(scratch, entry), { recursive: true, force: true });
        if (await webBuildIsStale(webDir)) await build();
        return;
      } finally {
        await rm(lock, { force: true });
      }
    }
    const holder = Number(await readFile(lock, 'utf8').catch(() => ''));
    if (Number.isInteger(holder) && holder > 0 && !isAlive(holder)) await rm(lock, { force: true });
    else await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function runVite(viteBin: string, webDir: string, outDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [viteBin, 'build', '--logLevel', 'warn', '--outDir', outDir, '--emptyOutDir'],
      { cwd: webDir, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    // DataLab stopping mid-build stops the build too; the next start cleans up after it.
    const stop = () => child.kill();
    process.once('exit', stop);
    child.once('error', reject);
    child.once('exit', () => process.off('exit', stop));
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`Building the web UI failed (vite exited with ${code})`)),
    );
  });
}

/**
 * `datalab up` from a checkout builds the web UI when web/dist is missing or
 * older than its sources, so `npm install && npm start` is all a fresh clone
 * needs. The build goes to a scratch directory and then replaces web/dist
 * whole, so a gateway never serves half a build. Images ship a built UI and
 * no web sources: nothing to do there.
 */
export async function ensureWebBuilt(out: NodeJS.WritableStream, webDir = WEB_DIR): Promise<void> {
  if (!existsSync(path.join(webDir, 'package.json')) || !(await webBuildIsStale(webDir))) return;
  const viteBin = findViteBin(webDir);
  if (!viteBin) {
    out.write('datalab: the web UI is not built and vite is not installed (run npm install)\n');
    return;
  }
  // Under node_modules: ignored by git and the formatters, on the same file system as web/dist.
  const scratch = path.join(webDir, 'node_modules', '.datalab-web-build');
  await mkdir(scratch, { recursive: true });
  await withBuildLock(
    scratch,
    async () => {
      out.write('datalab: building the web UI (web/dist)…\n');
      const fresh = path.join(scratch, `dist-${process.pid}`);
      const old = path.join(scratch, `old-${process.pid}`);
      const dist = path.join(webDir, 'dist');
      await runVite(viteBin, webDir, fresh);
      await rename(dist, old).catch(() => undefined);
      await rename(fresh, dist);
      await rm(old, { recursive: true, force: true });
      out.write('datalab: web UI built\n');
    },
    webDir,
  );
}
