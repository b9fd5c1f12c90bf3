import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchContext } from '../lib/bench.ts';
import { snapshot, untilQuiet, type CpuSnapshot } from '../lib/cpu.ts';
import { createCleanup } from '../lib/processes.ts';
import { codeVersion, machine, writeResults } from '../lib/report.ts';
import { CELERY_POOLS, celeryVersion, startCelery, type Celery, type CeleryPool } from './celery.ts';
import { runOurs, type RoundResult } from './ours.ts';
import { markdownReport, TARGETS, type Outcome, type Side } from './report.ts';
import { startStack, type Stack } from './stack.ts';

export const description =
  'No-op jobs submit → done through the jobs API with two workers, vs Celery on the same Redis.';

function parseOptions(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      jobs: { type: 'string', default: '20000' },
      rounds: { type: 'string', default: '2' },
      window: { type: 'string', default: '2000' },
      requests: { type: 'string', default: '32' },
      batch: { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '32' },
      'celery-pool': { type: 'string', default: 'solo' },
      'celery-db': { type: 'string', default: '11' },
    },
  });
  const pool = values['celery-pool'];
  if (!CELERY_POOLS.includes(pool as CeleryPool)) throw new Error('--celery-pool: solo, prefork or threads');
  return {
    jobs: Number(values.jobs),
    rounds: Number(values.rounds),
    window: Number(values.window),
    requests: Number(values.requests),
    batch: Number(values.batch),
    concurrency: Number(values.concurrency),
    celeryPool: pool as CeleryPool,
    celeryDb: Number(values['celery-db']),
  };
}

type Options = ReturnType<typeof parseOptions>;

/** CPU seconds per 1,000 jobs, per process group, between two snapshots. */
function cpuPerThousand(before: CpuSnapshot, after: CpuSnapshot, jobs: number): Record<string, number> {
  const spent = Object.fromEntries(
    Object.keys(after).map((k) => [k, Math.max(0, after[k]! - (before[k] ?? 0))]),
  );
  const grouped = Object.entries(spent).reduce((sum, [k, s]) => (k === 'machine' ? sum : sum + s), 0);
  spent.rest = Math.max(0, spent.machine! - grouped);
  return Object.fromEntries(
    Object.entries(spent).map(([k, s]) => [k, Number(((s * 1000) / jobs).toFixed(3))]),
  );
}

async function measured(
  name: Side,
  pids: Record<string, number | undefined>,
  work: () => Promise<RoundResult>,
  jobs: number,
) {
  const busyBefore = await untilQuiet();
  const before = await snapshot(pids);
  const result = await work();
  const after = await snapshot(pids);
  const cpu = cpuPerThousand(before, after, jobs);
  console.log(
    `  ${name}: ${jobs} jobs in ${result.seconds.toFixed(2)} s, ${result.jobs_per_s.toFixed(0)} jobs/s`,
  );
  return { side: name, ...result, busyBefore, cpuSecondsPer1000Jobs: cpu };
}

async function compare(stack: Stack, celery: Celery, options: Options) {
  const ourPids = {
    'compute-service': stack.processes.compute.child.pid,
    ...Object.fromEntries(stack.processes.workers.map((w, i) => [`worker ${i + 1}`, w.child.pid])),
  };
  const celeryPids = Object.fromEntries(celery.processes.map((w, i) => [`celery ${i + 1}`, w.child.pid]));
  console.log('Warm-up (not measured)');
  await runOurs(stack, 1000, options.window, options.requests, options.batch);
  await celery.run(1000, options.window);
  const rounds = [];
  for (let round = 1; round <= options.rounds; round++) {
    console.log(`Round ${round}`);
    rounds.push(
      await measured(
        'datalab',
        ourPids,
        () => runOurs(stack, options.jobs, options.window, options.requests, options.batch),
        options.jobs,
      ),
    );
    rounds.push(
      await measured('celery', celeryPids, () => celery.run(options.jobs, options.window), options.jobs),
    );
  }
  return rounds;
}

export async function run({ args, env }: BenchContext): Promise<void> {
  const options = parseOptions(args);
  const cleanup = createCleanup();
  try {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'datalab-bench-compute-'));
    cleanup.add(() => rm(dir, { recursive: true, force: true }));
    const redisUrl = env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
    console.log(`Starting compute-service and 2 workers (--concurrency ${options.concurrency})…`);
    const stack = await startStack(
      {
        postgresUrl: env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
        redisUrl,
        dataDir: path.join(dir, 'data'),
        workers: 2,
        concurrency: options.concurrency,
      },
      cleanup,
    );
    const brokerUrl = Object.assign(new URL(redisUrl), { pathname: `/${options.celeryDb}` }).toString();
    console.log(`Starting 2 Celery workers (--pool ${options.celeryPool}) on ${brokerUrl}…`);
    const celery = await startCelery(
      { brokerUrl, workers: 2, pool: options.celeryPool, concurrency: 1, prefetch: 64 },
      cleanup,
    );
    const rounds = await compare(stack, celery, options);
    const outcome: Outcome = {
      date: new Date().toISOString(),
      code: await codeVersion(),
      versions: { ...machine(), celery: await celeryVersion() },
      options,
      rounds,
      command: ['npm run bench -- compute', ...args].join(' '),
    };
    const markdown = markdownReport(outcome);
    const files = await writeResults('compute', { bench: 'compute', ...outcome, targets: TARGETS }, markdown);
    console.log(`\n${markdown}\nWritten: ${files.map((f) => path.relative(process.cwd(), f)).join(', ')}`);
  } finally {
    await cleanup.close();
  }
}
