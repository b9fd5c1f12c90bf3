import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import type { BenchContext } from '../lib/bench.ts';
import { createCleanup } from '../lib/processes.ts';
import { codeVersion, machine, writeResults } from '../lib/report.ts';
import { descendants, pssMb, rssMb, sampleRss } from './memory.ts';
import { readMix, writeMix } from './mix.ts';
import { markdownReport, type Minute } from './report.ts';
import { emptyCounts, startSideWork } from './side.ts';
import { startSoakStack } from './stack.ts';

export const description =
  'A long mixed load through the gateway (reads, cached queries, renders, uploads, jobs): 5xx count and RSS per minute.';

const execFileAsync = promisify(execFile);
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'mix.lua');

function parseOptions(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      minutes: { type: 'string', default: '30' },
      rate: { type: 'string', default: '1000' },
      threads: { type: 'string', default: '2' },
      connections: { type: 'string', default: '32' },
      port: { type: 'string', default: '43300' },
      'upload-every': { type: 'string', default: '20' },
      'job-every': { type: 'string', default: '10' },
      'render-every': { type: 'string', default: '5' },
    },
  });
  return {
    minutes: Number(values.minutes),
    rate: Number(values.rate),
    threads: Number(values.threads),
    connections: Number(values.connections),
    basePort: Number(values.port),
    side: {
      uploadEveryS: Number(values['upload-every']),
      jobEveryS: Number(values['job-every']),
      renderEveryS: Number(values['render-every']),
    },
  };
}

/** One minute of the read mix, paced at `rate` req/s over all threads. */
async function wrkMinute(url: string, requestsFile: string, options: ReturnType<typeof parseOptions>) {
  const { stdout } = await execFileAsync(
    'wrk',
    [
      `--threads=${options.threads}`,
      `--connections=${options.connections}`,
      '--duration=60s',
      '--timeout=10s',
      `--script=${SCRIPT}`,
      url,
    ],
    {
      maxBuffer: 1 << 20,
      env: { WRK_RATE_PER_THREAD: String(options.rate / options.threads), SOAK_REQUESTS: requestsFile },
    },
  );
  const line = stdout.split('\n').find((candidate) => candidate.startsWith('SOAK '));
  if (!line) throw new Error(`wrk printed no result line:\n${stdout}`);
  const field = (name: string) => Number(new RegExp(`\\b${name}=(\\d+)`).exec(line)?.[1] ?? NaN);
  return {
    requests: field('requests'),
    reqPerS: field('requests') / (field('duration_us') / 1e6),
    s2xx: field('s2xx'),
    s3xx: field('s3xx'),
    s4xx: field('s4xx'),
    s5xx: field('s5xx'),
    socketErrors: field('connect') + field('read') + field('write') + field('timeout'),
    p50Ms: field('p50_us') / 1000,
    p95Ms: field('p95_us') / 1000,
    p99Ms: field('p99_us') / 1000,
  };
}

export async function run({ args }: BenchContext): Promise<void> {
  const options = parseOptions(args);
  const cleanup = createCleanup();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'datalab-soak-mix-'));
  cleanup.add(() => rm(scratch, { recursive: true, force: true }));
  try {
    console.log('soak: starting `datalab up` (embedded PostgreSQL, nothing configured)');
    const stack = await startSoakStack(options.basePort, cleanup);
    const requestsFile = path.join(scratch, 'requests.lua');
    await writeMix(requestsFile, stack, readMix(stack));
    const side = emptyCounts();
    const stopSide = startSideWork(stack, options.side, side);
    const pid = stack.process.child.pid!;
    const minutes: Minute[] = [];
    for (let minute = 1; minute <= options.minutes; minute++) {
      const stopSampling = sampleRss(pid);
      const load = await wrkMinute(stack.url, requestsFile, options);
      const rss = await stopSampling();
      const postgres = await Promise.all((await descendants(pid)).map(pssMb));
      const entry: Minute = {
        minute,
        ...load,
        rssMb: await rssMb(pid),
        rssMeanMb: rss.meanMb,
        rssMaxMb: rss.maxMb,
        postgresPssMb: postgres.reduce((sum, mb) => sum + mb, 0),
        side: { ...side, samples: [] },
      };
      minutes.push(entry);
      console.log(
        `minute ${minute}: ${load.reqPerS.toFixed(0)} req/s, 5xx ${load.s5xx}, 4xx ${load.s4xx}, socket errors ${load.socketErrors}, p95 ${load.p95Ms.toFixed(1)} ms, RSS ${entry.rssMb.toFixed(0)} MB (mean ${entry.rssMeanMb.toFixed(0)}, max ${entry.rssMaxMb.toFixed(0)}; PostgreSQL ${entry.postgresPssMb.toFixed(0)} MB); side calls ${side.calls}, 5xx ${side.s5xx}`,
      );
      if (stack.process.child.exitCode !== null)
        throw new Error(`datalab exited:\n${stack.process.output()}`);
    }
    await stopSide();
    const result = {
      machine: machine(),
      code: await codeVersion(),
      options,
      minutes,
      side,
    };
    const files = await writeResults('soak', result, markdownReport(result));
    console.log(`soak: results in ${files.join(', ')}`);
  } finally {
    await cleanup.close();
  }
}
