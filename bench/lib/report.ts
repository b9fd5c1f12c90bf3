import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { repoRoot } from './processes.ts';
import type { LoadResult } from './wrk.ts';

export const resultsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** What the numbers were measured on. */
export function machine() {
  const cpus = os.cpus();
  return {
    nproc: os.availableParallelism(),
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    memoryGib: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}

/** The commit measured, and whether the code under test (packages/, services/) differed from it. */
export async function codeVersion(): Promise<{ commit: string; modified: boolean }> {
  const git = (...args: string[]) => promisify(execFile)('git', args, { cwd: repoRoot });
  try {
    const commit = (await git('rev-parse', 'HEAD')).stdout.trim();
    const changes = await git(
      'status',
      '--porcelain',
      '--untracked-files=normal',
      '--',
      'packages',
      'services',
    );
    return { commit, modified: changes.stdout.trim() !== '' };
  } catch {
    return { commit: 'unknown', modified: true };
  }
}

const fixed = (value: number, digits: number) => value.toFixed(digits);

/** A markdown table of req/s and latency percentiles, one row per named result. */
export function latencyTable(rows: [string, LoadResult][]): string {
  const lines = [
    '| | req/s | p50 ms | p95 ms | p99 ms | requests | errors |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, r] of rows) {
    lines.push(
      `| ${name} | ${fixed(r.reqPerS, 0)} | ${fixed(r.p50Ms, 2)} | ${fixed(r.p95Ms, 2)} | ${fixed(r.p99Ms, 2)} | ${r.requests} | ${r.errors} |`,
    );
  }
  return lines.join('\n');
}

export async function writeResults(name: string, json: unknown, markdown: string): Promise<string[]> {
  await mkdir(resultsDir, { recursive: true });
  const files = [path.join(resultsDir, `${name}.json`), path.join(resultsDir, `${name}.md`)];
  await writeFile(files[0]!, `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(files[1]!, markdown);
  return files;
}
