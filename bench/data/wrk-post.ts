import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { perRequest, snapshot } from '../lib/cpu.ts';
import type { Measured } from '../lib/measure.ts';
import type { LoadOptions, LoadResult } from '../lib/wrk.ts';

const run = promisify(execFile);
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'post.lua');

/** One wrk run POSTing `body` (JSON) to `url`; the same result as ../lib/wrk.ts gives for a GET. */
export async function wrkPost(url: string, body: string, options: LoadOptions): Promise<LoadResult> {
  const args = [
    `--threads=${options.threads}`,
    `--connections=${options.connections}`,
    `--duration=${options.durationS}s`,
    '--timeout=5s',
    '--latency',
    `--script=${SCRIPT}`,
    ...Object.entries(options.headers).flatMap(([name, value]) => ['--header', `${name}: ${value}`]),
    url,
    '--',
    body,
  ];
  const { stdout } = await run('wrk', args, { maxBuffer: 1 << 20 });
  const line = stdout.split('\n').find((candidate) => candidate.startsWith('BENCH '));
  if (!line) throw new Error(`wrk printed no result line:\n${stdout}`);
  const field = (name: string): number => {
    const match = new RegExp(`\\b${name}=(\\d+)`).exec(line);
    if (!match) throw new Error(`wrk result line lacks ${name}: ${line}`);
    return Number(match[1]);
  };
  const durationS = field('duration_us') / 1e6;
  return {
    requests: field('requests'),
    durationS,
    reqPerS: field('requests') / durationS,
    p50Ms: field('p50_us') / 1000,
    p95Ms: field('p95_us') / 1000,
    p99Ms: field('p99_us') / 1000,
    maxMs: field('max_us') / 1000,
    errors: ['connect', 'read', 'write', 'status', 'timeout'].reduce((sum, name) => sum + field(name), 0),
  };
}

/** A warm-up, then the measured run, with the CPU each process spent on it (as ../lib/measure.ts). */
export async function measurePost(
  url: string,
  body: string,
  load: LoadOptions & { warmupS: number },
  pids: Record<string, number | undefined>,
): Promise<Measured> {
  const warmup = await wrkPost(url, body, { ...load, durationS: load.warmupS });
  const before = await snapshot(pids);
  const result = await wrkPost(url, body, load);
  const after = await snapshot(pids);
  const errors = warmup.errors + result.errors;
  if (errors > 0) throw new Error(`${url}: ${errors} calls failed or were not 2xx/3xx`);
  return {
    ...result,
    warmupRequests: warmup.requests,
    cpuUsPerRequest: perRequest(before, after, result.requests),
  };
}
