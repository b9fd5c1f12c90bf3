import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchContext } from '../lib/bench.ts';
import { busyCores, untilQuiet } from '../lib/cpu.ts';
import { measure } from '../lib/measure.ts';
import { createCleanup } from '../lib/processes.ts';
import { codeVersion, machine, writeResults } from '../lib/report.ts';
import { wrkVersion } from '../lib/wrk.ts';
import { matplotlib, percentile } from './peer.ts';
import { markdownReport, PACED_CONNECTIONS, TARGETS, verdict, type Outcome } from './report.ts';
import { HEIGHT, POINTS, renderPng, SCATTER, WIDTH } from './scatter.ts';
import { startStack, type Stack } from './stack.ts';

export const description =
  '1,000-point scatter to PNG uncached (vs matplotlib, same run) and the cached render through the gateway.';

function parseOptions(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      renders: { type: 'string', default: '40' },
      'warmup-renders': { type: 'string', default: '5' },
      duration: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '5' },
      threads: { type: 'string', default: '2' },
      connections: { type: 'string', default: '16' },
      port: { type: 'string', default: '43100' },
    },
  });
  return {
    renders: Number(values.renders),
    warmupRenders: Number(values['warmup-renders']),
    load: {
      durationS: Number(values.duration),
      warmupS: Number(values.warmup),
      threads: Number(values.threads),
      connections: Number(values.connections),
    },
    basePort: Number(values.port),
  };
}

async function timed(count: number, work: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  return times;
}

const summary = (times: number[]) => ({
  medianMs: percentile(times, 50),
  p95Ms: percentile(times, 95),
  count: times.length,
});

/** An uncached render through the gateway: each spec differs (usermeta), so each is drawn anew. */
async function renderThroughGateway(stack: Stack, nonce: number): Promise<void> {
  const response = await fetch(
    `${stack.gatewayUrl}/api/v1/viz/render?format=png&width=${WIDTH}&height=${HEIGHT}`,
    {
      method: 'POST',
      headers: { ...stack.auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        spec: { ...SCATTER, usermeta: { nonce }, data: { dataset: stack.datasetName } },
      }),
    },
  );
  const bytes = await response.arrayBuffer();
  if (response.status !== 200 || response.headers.get('x-datalab-cache') !== 'miss')
    throw new Error(
      `uncached render: ${response.status} ${response.headers.get('x-datalab-cache')} ${Buffer.from(bytes).toString()}`,
    );
}

export async function run({ args, env }: BenchContext): Promise<void> {
  const options = parseOptions(args);
  const cleanup = createCleanup();
  try {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'datalab-bench-viz-'));
    cleanup.add(() => rm(dir, { recursive: true, force: true }));
    const busy = await busyCores();
    if (busy > 0.2) console.warn(`Warning: ${busy.toFixed(1)} cores are busy before the bench starts.`);
    console.log(
      `Uncached: ${options.renders} renders each (after ${options.warmupRenders} warm-up renders)…`,
    );
    await untilQuiet();
    await timed(options.warmupRenders, renderPng);
    const engine = await timed(options.renders, renderPng);
    await untilQuiet();
    const peer = await matplotlib(options.renders, options.warmupRenders);
    console.log(
      `  DataLab renderer: median ${percentile(engine, 50).toFixed(1)} ms · matplotlib: median ${percentile(peer.timesMs, 50).toFixed(1)} ms`,
    );
    console.log('Starting api-gateway, data-service and viz-service…');
    const stack = await startStack(
      {
        postgresUrl: env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
        redisUrl: env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
        dataDir: path.join(dir, 'data'),
        basePort: options.basePort,
      },
      cleanup,
    );
    await untilQuiet();
    let nonce = 0;
    await timed(options.warmupRenders, () => renderThroughGateway(stack, (nonce += 1)));
    const http = await timed(options.renders, () => renderThroughGateway(stack, (nonce += 1)));
    const ourPng = await renderPng();

    console.log('Cached: the saved chart’s PNG through the gateway…');
    const url = `${stack.gatewayUrl}/api/v1/viz/charts/${stack.chartId}/render.png?width=${WIDTH}&height=${HEIGHT}`;
    const first = await fetch(url, { headers: stack.auth });
    const cachedBytes = (await first.arrayBuffer()).byteLength;
    const check = await fetch(url, { headers: stack.auth });
    await check.arrayBuffer();
    if (check.headers.get('x-datalab-cache') !== 'hit')
      throw new Error('the second render was not a cache hit');
    const etag = check.headers.get('etag')!;
    const pids = {
      gateway: stack.processes.gateway.child.pid,
      viz: stack.processes.viz.child.pid,
      data: stack.processes.data.child.pid,
    };
    await untilQuiet();
    const cached = await measure(url, { ...options.load, headers: stack.auth }, pids);
    await untilQuiet();
    const paced = await measure(
      url,
      {
        ...options.load,
        // Enough connections that a slow answer never leaves a thread without a free one at its
        // next slot: the rate stays the server's to hold, not wrk's.
        connections: PACED_CONNECTIONS,
        headers: stack.auth,
        ratePerS: TARGETS.cachedReqPerS,
      },
      pids,
    );
    await untilQuiet();
    const revalidated = await measure(
      url,
      { ...options.load, headers: { ...stack.auth, 'if-none-match': etag } },
      pids,
    );

    const host = machine();
    const outcome: Outcome = {
      date: new Date().toISOString(),
      code: await codeVersion(),
      host,
      versions: { wrk: await wrkVersion(), matplotlib: peer.version },
      chart: {
        points: POINTS,
        width: WIDTH,
        height: HEIGHT,
        ourPngBytes: ourPng.length,
        matplotlibPngBytes: peer.pngBytes,
        cachedPngBytes: cachedBytes,
      },
      busyBefore: busy,
      uncached: { engine: summary(engine), matplotlib: summary(peer.timesMs), gateway: summary(http) },
      load: options.load,
      cached,
      paced,
      revalidated,
    };
    const json = {
      bench: 'viz',
      ...outcome,
      raw: { engine, matplotlib: peer.timesMs, gateway: http },
      ...verdict(outcome),
    };
    const markdown = markdownReport(outcome);
    const files = await writeResults('viz', json, markdown);
    console.log(
      `\n${markdown}\nWritten: ${files.map((file) => path.relative(process.cwd(), file)).join(', ')}`,
    );
  } finally {
    await cleanup.close();
  }
}
