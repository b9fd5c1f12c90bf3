import type { Measured } from '../lib/measure.ts';
import { latencyTable, type machine } from '../lib/report.ts';

interface Summary {
  medianMs: number;
  p95Ms: number;
  count: number;
}

export interface Outcome {
  date: string;
  code: { commit: string; modified: boolean };
  host: ReturnType<typeof machine>;
  versions: { wrk: string; matplotlib: string };
  chart: {
    points: number;
    width: number;
    height: number;
    ourPngBytes: number;
    matplotlibPngBytes: number;
    cachedPngBytes: number;
  };
  busyBefore: number;
  uncached: { engine: Summary; matplotlib: Summary; gateway: Summary };
  load: { durationS: number; warmupS: number; threads: number; connections: number };
  /** Flat out: the most the path answers. */
  cached: Measured;
  /** At the target rate: the latency a user sees at that load. */
  paced: Measured;
  revalidated: Measured;
}

export const TARGETS = {
  uncachedMedian: 'our median ≤ matplotlib’s median (same chart, same run)',
  cachedReqPerS: 1000,
  cachedP95Ms: 20,
};

/** Connections of the paced run: at 1,000 req/s, each thread's next slot (every 2 ms) finds a free one even behind 64 ms of slow answers. */
export const PACED_CONNECTIONS = 64;

/** The paced run counts as holding the target rate when it reached this share of it. */
const RATE_HELD = 0.98;

export function verdict(o: Outcome) {
  return {
    ratio: o.uncached.engine.medianMs / o.uncached.matplotlib.medianMs,
    met: {
      uncachedMedian: o.uncached.engine.medianMs <= o.uncached.matplotlib.medianMs,
      cachedReqPerS: o.cached.reqPerS >= TARGETS.cachedReqPerS,
      cachedP95: o.paced.reqPerS >= RATE_HELD * TARGETS.cachedReqPerS && o.paced.p95Ms < TARGETS.cachedP95Ms,
    },
  };
}

const ms = (value: number) => value.toFixed(1);
const yes = (met: boolean) => (met ? 'met' : '**not met**');

export function markdownReport(o: Outcome): string {
  const v = verdict(o);
  const cpuRows = (['cached', 'paced', 'revalidated'] as const).map((name) => {
    const cpu = o[name].cpuUsPerRequest;
    return `| ${name} | ${Object.entries(cpu)
      .map(([k, value]) => `${k} ${value.toFixed(0)}`)
      .join(' · ')} |`;
  });
  return `# Viz bench

${o.date} · commit ${o.code.commit.slice(0, 7)}${o.code.modified ? ' (with uncommitted changes)' : ''} · ${o.host.nproc} cores (${o.host.cpu}) · Node ${o.host.node} · matplotlib ${o.versions.matplotlib} · ${o.versions.wrk} · ${o.busyBefore.toFixed(2)} cores busy before the start

## A ${o.chart.points.toLocaleString('en')}-point scatter to PNG, uncached (${o.uncached.engine.count} renders each, one after another)

${o.chart.width} × ${o.chart.height} pixels, title and axis titles, the same points on both sides.

| | median ms | p95 ms | PNG bytes |
|---|---:|---:|---:|
| **DataLab renderer** (Vega-Lite → Vega SVG → resvg PNG, in one Node thread) | ${ms(o.uncached.engine.medianMs)} | ${ms(o.uncached.engine.p95Ms)} | ${o.chart.ourPngBytes} |
| matplotlib (Agg, Debian python3-matplotlib, one Python process) | ${ms(o.uncached.matplotlib.medianMs)} | ${ms(o.uncached.matplotlib.p95Ms)} | ${o.chart.matplotlibPngBytes} |
| DataLab end to end: \`POST /api/v1/viz/render\` through the gateway (data read from the data-service, render thread) | ${ms(o.uncached.gateway.medianMs)} | ${ms(o.uncached.gateway.p95Ms)} | |

DataLab / matplotlib median: **${v.ratio.toFixed(2)}×** — target ${TARGETS.uncachedMedian}: ${yes(v.met.uncachedMedian)}.

## The cached render through the gateway

\`GET /api/v1/viz/charts/{id}/render.png?width=${o.chart.width}&height=${o.chart.height}\` (${o.chart.cachedPngBytes} bytes) with a Bearer token: the gateway authenticates, counts the call in Redis and proxies; the viz-service checks the caller may read the chart and its dataset (the chart remembered from PostgreSQL and the dataset's version from the data-service until either changes, at most 2 s), and answers from its in-process copy of the render (the Redis render cache behind it). wrk: ${o.load.threads} threads, ${o.load.connections} connections, ${o.load.durationS} s after ${o.load.warmupS} s of warm-up; flat out (each connection sends its next call when the last is answered), then paced at ${TARGETS.cachedReqPerS} req/s (a steady ${TARGETS.cachedReqPerS / o.load.threads} calls per second from each wrk thread, over ${PACED_CONNECTIONS} connections so that a slow answer does not hold the next call back).

${latencyTable([
  ['cached PNG (200), flat out', o.cached],
  [`cached PNG (200), paced at ${TARGETS.cachedReqPerS} req/s`, o.paced],
  ['revalidated (If-None-Match → 304), flat out', o.revalidated],
])}

Flat out, every connection always has a call waiting, so latency there is queueing: by Little's law the mean is connections ÷ req/s, whatever the connection count chosen. The p95 target is therefore read at the target rate, where the paced run also has to hold that rate (at least ${RATE_HELD * 100} % of it).

| target | reached | |
|---|---:|---|
| ≥ ${TARGETS.cachedReqPerS} req/s | ${o.cached.reqPerS.toFixed(0)} (flat out) | ${yes(v.met.cachedReqPerS)} |
| p95 < ${TARGETS.cachedP95Ms} ms at ${TARGETS.cachedReqPerS} req/s | ${o.paced.p95Ms.toFixed(2)} ms at ${o.paced.reqPerS.toFixed(0)} req/s | ${yes(v.met.cachedP95)} |

µs of CPU per request (all processes share the machine's cores; \`rest\` is wrk and anything else):

| run | µs CPU / request |
|---|---|
${cpuRows.join('\n')}
`;
}
