import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { INTERNAL_TOKEN_HEADER } from '@datalab/platform';
import type { BenchContext } from '../lib/bench.ts';
import { busyCores, untilQuiet } from '../lib/cpu.ts';
import { measure, type Measured } from '../lib/measure.ts';
import { createCleanup, freePort, type Cleanup } from '../lib/processes.ts';
import { codeVersion, machine, writeResults } from '../lib/report.ts';
import { wrkVersion } from '../lib/wrk.ts';
import { nginxConfig, nginxVersion, startNginx, type NginxOptions } from './nginx.ts';
import { profileGateway } from './profile.ts';
import { markdownReport, TARGETS, verdict, type Load, type Outcome } from './report.ts';
import { ENDPOINT, startStack, type Stack } from './stack.ts';

export const description =
  'Authenticated, rate-limited GET of a small JSON through api-gateway vs nginx on the same upstream.';

/** So high that no call is ever refused, yet every one is counted in Redis; one window for the whole run. */
const RATE_LIMIT = { perWindow: 100_000_000, windowMs: 3_600_000 };

function parseOptions(args: string[]): { load: Load; profile: boolean } {
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '5' },
      threads: { type: 'string', default: '2' },
      connections: { type: 'string', default: '64' },
      rounds: { type: 'string', default: '2' },
      profile: { type: 'boolean', default: false },
    },
  });
  const load = {
    durationS: Number(values.duration),
    warmupS: Number(values.warmup),
    threads: Number(values.threads),
    connections: Number(values.connections),
    rounds: Number(values.rounds),
  };
  // An nginx run (warm-up + measure) must end well within its internal token's 60 s.
  if (load.durationS + load.warmupS > 30) throw new Error('--warmup plus --duration must stay ≤ 30 s');
  return { load, profile: values.profile };
}

async function get(url: string, headers: Record<string, string>): Promise<Response> {
  const response = await fetch(url, { headers });
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return response;
}

/** Calls counted for the bench user so far, this one included. Fails if the gateway did not count it. */
async function countedByLimiter(stack: Stack): Promise<number> {
  const response = await get(`${stack.gatewayUrl}${ENDPOINT.path}`, stack.auth);
  await response.arrayBuffer();
  const limit = Number(response.headers.get('ratelimit-limit'));
  if (!limit) throw new Error('the gateway answered without rate-limit headers: the call was not counted');
  return limit - Number(response.headers.get('ratelimit-remaining'));
}

const best = (results: Measured[]): Measured =>
  results.reduce((top, result) => (result.reqPerS > top.reqPerS ? result : top));

const print = (label: string, r: Measured) =>
  console.log(
    `  ${label}: ${r.reqPerS.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p95 ${r.p95Ms.toFixed(2)} ms`,
  );

/** Gateway, nginx and the upstream alone, in turn, `rounds` times; then the results files. */
async function compare(stack: Stack, load: Load, busy: number, dir: string, cleanup: Cleanup): Promise<void> {
  const pids = { gateway: stack.processes.gateway.child.pid, viz: stack.processes.viz.child.pid };
  const side = async (label: string, url: string, headers = stack.auth) => {
    const result = await measure(`${url}${ENDPOINT.path}`, { ...load, headers }, pids);
    print(label, result);
    return result;
  };
  const nginxPort = await freePort();
  const nginxOptions = (internalToken: string): NginxOptions => ({
    dir: path.join(dir, 'nginx'),
    port: nginxPort,
    upstreamUrl: stack.vizUrl,
    prefix: ENDPOINT.prefix,
    internalToken,
  });
  const expected = await (await get(`${stack.gatewayUrl}${ENDPOINT.path}`, stack.auth)).text();
  const countedBefore = await countedByLimiter(stack);

  const runs: Record<'gateway' | 'nginx' | 'direct', Measured[]> = { gateway: [], nginx: [], direct: [] };
  for (let round = 1; round <= load.rounds; round += 1) {
    console.log(`Round ${round}/${load.rounds}`);
    await untilQuiet();
    runs.gateway.push(await side('gateway', stack.gatewayUrl));
    await untilQuiet();
    // Internal tokens live 60 s: each nginx run gets a fresh one.
    const nginx = await startNginx(nginxOptions(await stack.internalToken()), {
      path: ENDPOINT.path,
      headers: stack.auth,
    });
    cleanup.add(nginx.stop);
    const body = await (await get(`${nginx.url}${ENDPOINT.path}`, stack.auth)).text();
    if (body !== expected) throw new Error(`nginx and the gateway answer differently:\n${body}\n${expected}`);
    runs.nginx.push(await side('nginx', nginx.url));
    await nginx.stop();
    // The ceiling: the upstream alone, called as the gateway calls it.
    await untilQuiet();
    const internal = { ...stack.auth, [INTERNAL_TOKEN_HEADER]: await stack.internalToken() };
    runs.direct.push(await side('direct', stack.vizUrl, internal));
  }
  const counted = (await countedByLimiter(stack)) - countedBefore - 1;
  const sent = runs.gateway.reduce((sum, r) => sum + r.warmupRequests + r.requests, 0);

  const host = machine();
  const versions = { nginx: await nginxVersion(), wrk: await wrkVersion() };
  const outcome: Outcome = {
    date: new Date().toISOString(),
    code: await codeVersion(),
    endpoint: { ...ENDPOINT, answerBytes: Buffer.byteLength(expected) },
    versions: { ...versions, node: host.node, nproc: host.nproc, cpu: host.cpu },
    load,
    busyBefore: busy,
    gateway: best(runs.gateway),
    nginx: best(runs.nginx),
    direct: best(runs.direct),
    rateLimit: { counted, sent },
  };
  const json = {
    bench: 'gateway',
    date: outcome.date,
    code: outcome.code,
    machine: { ...host, ...versions },
    endpoint: outcome.endpoint,
    config: {
      load,
      bestOf: 'each side’s round with the most req/s',
      gateway: `datalab serve api-gateway → datalab serve viz-service; PostgreSQL; Redis rate limits (RATE_LIMIT_DEFAULT=${RATE_LIMIT.perWindow}, RATE_LIMIT_WINDOW_MS=${RATE_LIMIT.windowMs}); ACCESS_TOKEN_TTL_SECONDS=3600; audit log on; LOG_LEVEL=warn`,
      nginxConf: nginxConfig(nginxOptions('<internal token signed by the bench>')),
    },
    runs,
    best: { gateway: outcome.gateway, nginx: outcome.nginx, direct: outcome.direct },
    ...verdict(outcome),
    targets: TARGETS,
    rateLimit: outcome.rateLimit,
  };
  const markdown = markdownReport(outcome);
  const files = await writeResults('gateway', json, markdown);
  console.log(
    `\n${markdown}\nWritten: ${files.map((file) => path.relative(process.cwd(), file)).join(', ')}`,
  );
}

export async function run({ args, env }: BenchContext): Promise<void> {
  const { load, profile } = parseOptions(args);
  const cleanup = createCleanup();
  try {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'datalab-bench-'));
    cleanup.add(() => rm(dir, { recursive: true, force: true }));
    const profileDir = path.join(dir, 'profile');
    const busy = await busyCores();
    if (busy > 0.2) console.warn(`Warning: ${busy.toFixed(1)} cores are busy before the bench starts.`);
    console.log('Starting viz-service and api-gateway…');
    const stack = await startStack(
      {
        postgresUrl: env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
        redisUrl: env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
        dataDir: path.join(dir, 'data'),
        rateLimitDefault: RATE_LIMIT.perWindow,
        rateLimitWindowMs: RATE_LIMIT.windowMs,
        gatewayNodeFlags: profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
      },
      cleanup,
    );
    if (profile) await profileGateway(stack, load, profileDir);
    else await compare(stack, load, busy, dir, cleanup);
  } finally {
    await cleanup.close();
  }
}
