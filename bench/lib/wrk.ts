import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'percentiles.lua');

export interface LoadOptions {
  threads: number;
  connections: number;
  durationS: number;
  headers: Record<string, string>;
  /** A JSON body: every request is then a POST carrying it. */
  jsonBody?: string;
  /** Requests per second to send at, spread over the threads; unset: as fast as answers come. */
  ratePerS?: number;
}

export interface LoadResult {
  requests: number;
  durationS: number;
  reqPerS: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Socket errors, timeouts and answers that were not 2xx/3xx. */
  errors: number;
}

/**
 * One wrk run against `url` (GETs, or POSTs of `jsonBody`), flat out or at `ratePerS`; percentiles
 * come from wrk's full latency histogram.
 */
export async function wrk(url: string, options: LoadOptions): Promise<LoadResult> {
  const args = [
    `--threads=${options.threads}`,
    `--connections=${options.connections}`,
    `--duration=${options.durationS}s`,
    '--timeout=5s',
    '--latency',
    `--script=${SCRIPT}`,
    ...Object.entries(options.headers).flatMap(([name, value]) => ['--header', `${name}: ${value}`]),
    url,
    ...(options.jsonBody === undefined ? [] : ['--', options.jsonBody]),
  ];
  // The script must know the rate when it loads, before wrk hands it any argument: an environment
  // of its own carries it (the command is still found on the bench's PATH).
  const env =
    options.ratePerS === undefined
      ? undefined
      : { WRK_RATE_PER_THREAD: String(options.ratePerS / options.threads) };
  const { stdout } = await run('wrk', args, { maxBuffer: 1 << 20, env });
  const line = stdout.split('\n').find((candidate) => candidate.startsWith('BENCH '));
  if (!line) throw new Error(`wrk printed no result line:\n${stdout}`);
  const field = (name: string): number => {
    const match = new RegExp(`\\b${name}=(\\d+)`).exec(line);
    if (!match) throw new Error(`wrk result line lacks ${name}: ${line}`);
    return Number(match[1]);
  };
  const durationS = field('duration_us') / 1e6;
  const ms = (name: string) => field(name) / 1000;
  return {
    requests: field('requests'),
    durationS,
    reqPerS: field('requests') / durationS,
    p50Ms: ms('p50_us'),
    p95Ms: ms('p95_us'),
    p99Ms: ms('p99_us'),
    maxMs: ms('max_us'),
    errors: ['connect', 'read', 'write', 'status', 'timeout'].reduce((sum, name) => sum + field(name), 0),
  };
}

export async function wrkVersion(): Promise<string> {
  // `wrk -v` prints its version and usage, and exits 1.
  const output = await run('wrk', ['-v']).catch((error: { stdout?: string }) => ({
    stdout: error.stdout ?? '',
  }));
  return (
    output.stdout
      .split('\n')[0]
      ?.replace(/\s*Copyright.*$/, '')
      .trim() || 'wrk, version unknown'
  );
}
