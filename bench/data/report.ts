import type { Measured } from '../lib/measure.ts';
import { latencyTable } from '../lib/report.ts';
import type { IngestRun } from './ingest.ts';
import { SERIAL, type QueryComparison } from './query.ts';

export const TARGETS = { ingestRatio: 0.7, queryP50Ratio: 1.2, cachedReqPerS: 5000, cachedP95Ms: 20 };

export interface Load {
  durationS: number;
  warmupS: number;
  threads: number;
  connections: number;
}

export interface Outcome {
  date: string;
  code: { commit: string; modified: boolean };
  versions: Record<string, string | number>;
  busyBefore: number;
  file: { rows: number; bytes: number; columns: string };
  ingest: { runs: IngestRun[]; api: IngestRun; psql: IngestRun };
  query: QueryComparison & { sql: string };
  cached: Measured & { busyBefore: number };
  /** The same cached query sent straight to the data-service with an internal token. */
  cachedDirect: Measured & { busyBefore: number };
  load: Load;
  commands: Record<string, string>;
}

export function verdict(outcome: Outcome) {
  const ingestRatio = outcome.ingest.api.rowsPerS / outcome.ingest.psql.rowsPerS;
  const queryP50Ratio = outcome.query.api.p50Ms / outcome.query.psqlSameTable.p50Ms;
  const peerP50Ratio = outcome.query.api.p50Ms / outcome.query.psqlPeerTable.p50Ms;
  const serialP50Ratio = outcome.query.api.p50Ms / outcome.query.psqlSerial.p50Ms;
  return {
    ingestRatio,
    queryP50Ratio,
    peerP50Ratio,
    serialP50Ratio,
    met: {
      ingestRatio: ingestRatio >= TARGETS.ingestRatio,
      queryP50Ratio: queryP50Ratio <= TARGETS.queryP50Ratio,
      cachedReqPerS: outcome.cached.reqPerS >= TARGETS.cachedReqPerS,
      cachedP95Ms: outcome.cached.p95Ms < TARGETS.cachedP95Ms,
    },
  };
}

const yes = (met: boolean) => (met ? '**met**' : '**not met**');
const n = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const cpu = (r: IngestRun, group: string): string => n(r.cpuSeconds[group] ?? 0, 2);

const workers = (plan: string): string => {
  const planned = /Workers Planned: (\d+)/.exec(plan);
  return planned ? `${planned[1]} parallel workers` : 'no parallel workers';
};

const CPU_COLUMNS = ['gateway', 'data', 'postgres', 'redis-server', 'rest', 'machine'];

export function markdownReport(outcome: Outcome): string {
  const { ingest, query, cached, cachedDirect, versions, load, file } = outcome;
  const v = verdict(outcome);
  const ingestRows = ingest.runs
    .map(
      (r, i) =>
        `| ${i + 1} | ${r.side} | \`${r.target}\` | ${n(r.rows)} | ${n(r.seconds, 2)} | ${n(r.rowsPerS)} | ${cpu(r, 'data')} | ${cpu(r, 'gateway')} | ${cpu(r, 'postgres')} | ${cpu(r, 'rest')} | ${n(r.busyBefore, 2)} |`,
    )
    .join('\n');
  const queryRow = (name: string, t: QueryComparison['api']) =>
    `| ${name} | ${n(t.p50Ms, 1)} | ${n(t.minMs, 1)} | ${n(t.maxMs, 1)} | ${n(t.busyBefore ?? 0, 2)} |`;
  return `# Data bench

${outcome.date} · commit ${outcome.code.commit.slice(0, 7)}${outcome.code.modified ? ' (with uncommitted changes)' : ''} · ${versions.nproc} cores (${versions.cpu}) · Node ${versions.node} · ${versions.psql} · server ${versions.postgres} · ${versions.wrk} · ${outcome.busyBefore.toFixed(2)} cores busy before the start

Everything runs on this machine in one run: \`datalab serve data-service\` and \`datalab serve api-gateway\`
(separate processes, PostgreSQL and Redis on loopback), psql, curl and wrk.

## 1. Ingest: ${n(file.rows)} rows × 10 columns, ${n(file.bytes / 1e6, 1)} MB of CSV

Columns: ${file.columns}. Generated with a fixed seed (the same bytes every run).

- **api**: \`${outcome.commands.upload}\` — through the gateway to the data-service, which
  detects the format, infers the types, checks every row, creates the table and COPYs into it in one
  transaction, then adds the primary key. Timed from curl's start to its exit.
- **psql**: \`${outcome.commands.copy}\` into a plain table with the same columns and types, created
  beforehand. Timed from psql's start to its exit.

A CHECKPOINT and a quiet machine before each run; ${ingest.runs.length / 2} alternating rounds, the best of each side kept.
CPU seconds each process spent during the run; \`rest\` is the kernel's and any other work, and processes
that exited by the end of the run: curl, psql and psql's server backend (so psql's COPY work is there, not under postgres).

| run | side | into | rows | s | rows/s | CPU s: data-service | gateway | postgres | rest | cores busy before |
|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|
${ingestRows}

Best: API **${n(ingest.api.rowsPerS)} rows/s**, psql **${n(ingest.psql.rowsPerS)} rows/s**: **${v.ingestRatio.toFixed(2)}×** psql.

## 2. Group-by aggregate, not cached

\`${query.sql}\` (${query.groups} groups), ${query.api.ms.length} runs each after 3 unmeasured.

- **API**: \`POST /api/v1/data/query\` \`{"sql": …}\` through the gateway with the data-service's cache off
  (\`QUERY_CACHE_TTL_SECONDS=0\`; every answer said \`x-datalab-cache: miss\`), sequential calls from the bench
  process over one kept-alive connection, timed from the request to the last byte of the JSON answer.
  Includes the gateway (token, rate limit, audit, proxy), the SQL guard and rewrite, the
  read-only transaction as \`datalab_query\`, the bounded statement and the JSON encoding.
- **psql**: the same SQL in one psql session under \`\\timing\` (from sending the query to having the whole result; printing
  excluded), as superuser, on the dataset's own table (the same pages the API reads) and on the peer table \`\\copy\` filled.

| | p50 ms | min ms | max ms | cores busy before |
|---|---:|---:|---:|---:|
${queryRow('API', query.api)}
${queryRow('psql, same table', query.psqlSameTable)}
${queryRow('psql, peer table', query.psqlPeerTable)}
${queryRow('psql, same table, no parallel workers', query.psqlSerial)}

API / psql p50: **${v.queryP50Ratio.toFixed(2)}×** (same table), ${v.peerP50Ratio.toFixed(2)}× (peer table),
${v.serialP50Ratio.toFixed(2)}× psql without parallel workers. The API runs an answer under the row cap as one
statement (\`SELECT * FROM (…) LIMIT cap + 1\`), so PostgreSQL may give it parallel workers: EXPLAIN plans
${workers(query.plans.plain)} for the plain query; a cursor (\`DECLARE … FETCH\`, what exports still use) would get
${workers(query.plans.cursor)} (both
plans are in \`data.json\`). The last row is psql under the same limit (\`${SERIAL}\`).

## 3. The same query, cached, through the gateway

The data-service restarted with \`QUERY_CACHE_TTL_SECONDS=300\`; the answer was cached by one call and
every later one is a hit. \`${outcome.commands.wrk}\`: ${load.threads} threads, ${load.connections} connections, ${load.durationS} s after a ${load.warmupS} s warm-up; ${n(cached.busyBefore, 2)} cores busy with other work just before.

Then the same load straight to the data-service with an internal token, as the gateway sends it
(${n(cachedDirect.busyBefore, 2)} cores busy before): no gateway at all, so the ceiling for any gateway in front of it.

${latencyTable([
  ['cached query, through the gateway', cached],
  ['the same, straight to the data-service', cachedDirect],
])}

| µs CPU / request | ${CPU_COLUMNS.join(' | ')} |
|---|${CPU_COLUMNS.map(() => '---:').join('|')}|
| through the gateway | ${CPU_COLUMNS.map((column) => cached.cpuUsPerRequest[column] ?? 0).join(' | ')} |
| straight to the data-service | ${CPU_COLUMNS.map((column) => cachedDirect.cpuUsPerRequest[column] ?? 0).join(' | ')} |

CPU each process spent per request (\`rest\` is wrk, the kernel's network work and anything else running;
\`machine\` the total). ${n(TARGETS.cachedReqPerS)} req/s on ${versions.nproc} cores leaves
${n((Number(versions.nproc) * 1e6) / TARGETS.cachedReqPerS)} µs of CPU per request for everything, wrk included.

## Targets

| target | reached | |
|---|---:|---|
| ingest ≥ ${TARGETS.ingestRatio}× psql \`\\copy\` (rows/s) | ${v.ingestRatio.toFixed(2)}× | ${yes(v.met.ingestRatio)} |
| aggregate p50 ≤ ${TARGETS.queryP50Ratio}× psql | ${v.queryP50Ratio.toFixed(2)}× | ${yes(v.met.queryP50Ratio)} |
| cached ≥ ${n(TARGETS.cachedReqPerS)} req/s | ${n(cached.reqPerS)} | ${yes(v.met.cachedReqPerS)} |
| cached p95 < ${TARGETS.cachedP95Ms} ms | ${n(cached.p95Ms, 2)} ms | ${yes(v.met.cachedP95Ms)} |

Where the data-service's time goes: \`npm run bench -- data --profile\` → [data-profile.md](data-profile.md).
`;
}
