import type { Measured } from '../lib/measure.ts';
import { latencyTable } from '../lib/report.ts';

export const TARGETS = { reqPerS: 10_000, p95Ms: 10, ratio: 0.5 };

export interface Load {
  durationS: number;
  warmupS: number;
  threads: number;
  connections: number;
  rounds: number;
}

export interface Outcome {
  date: string;
  code: { commit: string; modified: boolean };
  endpoint: { method: string; path: string; service: string; why: string; answerBytes: number };
  versions: { node: string; nginx: string; wrk: string; nproc: number; cpu: string };
  /** Cores other work kept busy just before the bench started. */
  busyBefore: number;
  load: Load;
  gateway: Measured;
  nginx: Measured;
  /** The viz-service called directly with an internal token: what any proxy can at best reach. */
  direct: Measured;
  rateLimit: { counted: number; sent: number };
}

export function verdict(outcome: Outcome) {
  const ratio = outcome.gateway.reqPerS / outcome.nginx.reqPerS;
  return {
    ratio,
    met: {
      reqPerS: outcome.gateway.reqPerS >= TARGETS.reqPerS,
      p95Ms: outcome.gateway.p95Ms < TARGETS.p95Ms,
      ratio: ratio >= TARGETS.ratio,
    },
  };
}

const CPU_COLUMNS = ['gateway', 'viz', 'postgres', 'redis-server', 'nginx', 'rest', 'machine'];

/** CPU µs each process spent per request: where a 2-core machine's budget goes. */
export function cpuTable(rows: [string, Measured][]): string {
  const lines = [
    `| µs CPU / request | ${CPU_COLUMNS.join(' | ')} |`,
    `|---|${CPU_COLUMNS.map(() => '---:').join('|')}|`,
  ];
  for (const [name, r] of rows) {
    lines.push(`| ${name} | ${CPU_COLUMNS.map((column) => r.cpuUsPerRequest[column] ?? 0).join(' | ')} |`);
  }
  return lines.join('\n');
}

const yes = (met: boolean) => (met ? '**met**' : '**not met**');

export function markdownReport(outcome: Outcome): string {
  const { ratio, met } = verdict(outcome);
  const { gateway, nginx, direct, endpoint, versions, load } = outcome;
  const rows: [string, Measured][] = [
    ['gateway', gateway],
    ['nginx', nginx],
    ['direct', direct],
  ];
  return `# Gateway bench

${outcome.date} · commit ${outcome.code.commit.slice(0, 7)}${outcome.code.modified ? ' (with uncommitted changes)' : ''} · ${versions.nproc} cores (${versions.cpu}) · Node ${versions.node} · nginx ${versions.nginx} · ${versions.wrk} · ${outcome.busyBefore.toFixed(2)} cores busy before the start

\`${endpoint.method} ${endpoint.path}\` (${endpoint.answerBytes} bytes of JSON, answered by the ${endpoint.service} from
PostgreSQL), with \`Authorization: Bearer <access token>\`. wrk: ${load.threads} threads, ${load.connections}
connections, ${load.durationS} s after a ${load.warmupS} s warm-up, ${load.rounds} alternating rounds, best round of each kept.
Why this endpoint: ${endpoint.why}.

- **gateway**: api-gateway (verifies the access token, counts the call in Redis, audits it, signs the
  internal token) → viz-service.
- **nginx**: nginx → the same viz-service instance, with a fixed internal token.
- **direct** (the ceiling, no proxy): wrk → that viz-service instance, with the internal token.

${latencyTable(rows)}

Gateway / nginx: **${ratio.toFixed(2)}×** the req/s, p95 ${(gateway.p95Ms / nginx.p95Ms).toFixed(2)}× nginx's.

| target | reached | |
|---|---:|---|
| ≥ ${TARGETS.reqPerS} req/s through the gateway | ${gateway.reqPerS.toFixed(0)} | ${yes(met.reqPerS)} |
| p95 < ${TARGETS.p95Ms} ms | ${gateway.p95Ms.toFixed(2)} ms | ${yes(met.p95Ms)} |
| ≥ ${TARGETS.ratio}× nginx | ${ratio.toFixed(2)}× | ${yes(met.ratio)} |

Where the CPU went (all processes share ${versions.nproc} cores; \`rest\` is wrk, the kernel's network
work and anything else running — other work on the machine shows there; \`machine\` is the total). ${TARGETS.reqPerS} req/s on ${versions.nproc} cores leaves
${Math.round((versions.nproc * 1e6) / TARGETS.reqPerS)} µs of CPU per request for everything.

${cpuTable(rows)}

Rate limiter: ${outcome.rateLimit.counted} calls counted in Redis for ${outcome.rateLimit.sent} completed by wrk
through the gateway (warm-ups included; calls in flight when wrk stops are counted but not completed).
`;
}
