import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench } from './lib/bench.ts';

const benchDir = path.dirname(fileURLToPath(import.meta.url));

/** Every folder beside this file with a run.ts is a bench. */
async function available(): Promise<string[]> {
  const entries = await readdir(benchDir, { withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const found = await stat(path.join(benchDir, entry.name, 'run.ts')).catch(() => undefined);
    if (found?.isFile()) names.push(entry.name);
  }
  return names.sort();
}

async function usage(): Promise<string> {
  const lines = ['Usage: npm run bench -- <name> [options]', '', 'Benches:'];
  for (const name of await available()) {
    const bench = (await import(`./${name}/run.ts`)) as Bench;
    lines.push(`  ${name.padEnd(12)} ${bench.description}`);
  }
  return lines.join('\n');
}

const [name, ...args] = process.argv.slice(2);
if (name === undefined || name === 'help' || name === '--help') {
  console.log(await usage());
} else if (!(await available()).includes(name)) {
  console.error(`Unknown bench "${name}".\n\n${await usage()}`);
  process.exitCode = 1;
} else {
  const bench = (await import(`./${name}/run.ts`)) as Bench;
  // The entry point is the one place that reads the environment.
  // eslint-disable-next-line no-restricted-properties
  await bench.run({ args, env: process.env });
}
