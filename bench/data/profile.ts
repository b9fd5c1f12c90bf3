import { copyFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { untilQuiet } from '../lib/cpu.ts';
import { profileIn, summarizeFile, type Category, type Share, type Window } from '../lib/cpuprofile.ts';
import { measure, type Measured } from '../lib/measure.ts';
import { codeVersion, latencyTable, machine, writeResults } from '../lib/report.ts';
import { ingestApi, type IngestRun } from './ingest.ts';
import { groupBySql, startCached, timeApi, type Timings } from './query.ts';
import type { Load } from './report.ts';
import type { Stack } from './stack.ts';

/** What the data-service does, recognized by the code on the stack (the frame nearest the leaf that matches). */
const CATEGORIES: Category[] = [
  { name: 'multipart: busboy', url: /\/busboy\/|\/streamsearch\/|@fastify\/multipart/ },
  { name: 'CSV parsing: csv-parse', url: /\/csv-parse\// },
  { name: 'UTF-8 check (ingest/text.ts)', url: /ingest\/text\.ts/ },
  { name: 'type checks + COPY text (ingest/encode.ts, values.ts)', url: /ingest\/(encode|values)\.ts/ },
  {
    name: 'COPY batching + stream: copy-writer, pg-copy-streams',
    url: /ingest\/copy-writer\.ts|pg-copy-streams/,
  },
  { name: 'ingest loop (ingest.ts, csv.ts, reader.ts)', url: /ingest\/(ingest|csv|reader)\.ts/ },
  { name: 'SQL guard + rewrite: libpg-query, tree walk', url: /libpg-query|query\/sql-(guard|rewrite)/ },
  { name: 'cache: ioredis', url: /\/ioredis\/|\/redis-parser\/|query-cache|adapters\/cache/ },
  { name: 'JSON answer encoding', url: /query\/(format-text|result-values|answers|formats)\.ts/ },
  {
    name: 'PostgreSQL client: pg (catalog lookup, cursor)',
    url: /\/pg\/|\/pg-pool\/|\/pg-protocol\/|\/pg-types\/|datasets\.repository|query\/executor/,
  },
  { name: 'internal token: jose', url: /\/jose\/|platform\/src\/auth\// },
  { name: 'metrics: prom-client', url: /\/prom-client\/|platform\/src\/metrics\// },
  { name: 'logging: pino', url: /\/pino/ },
  {
    name: 'HTTP server + Fastify',
    url: /\/fastify\/|\/find-my-way\/|\/avvio\/|\/light-my-request\/|node:_http_|platform\/src\/server\//,
  },
];

const shareTable = (title: string, rows: Share[], count = 12) =>
  [
    `| ${title} | ms | share |`,
    '|---|---:|---:|',
    ...rows
      .slice(0, count)
      .map((row) => `| \`${row.name}\` | ${row.ms} | ${(row.share * 100).toFixed(1)} % |`),
  ].join('\n');

/** performance.now() marks → a window counted back from the process's exit. */
const windowOf = (start: number, end: number, exited: number): Window => ({
  fromEndUs: (exited - start) * 1000,
  toEndUs: (exited - end) * 1000,
});

async function keep(dir: string, label: string): Promise<string> {
  const kept = path.join(os.tmpdir(), `datalab-data-${label}-${Date.now()}.cpuprofile`);
  await copyFile(await profileIn(dir), kept);
  return kept;
}

function section(
  title: string,
  intro: string,
  summary: Awaited<ReturnType<typeof summarizeFile>>,
  file: string,
) {
  return `## ${title}

${intro} ${summary.busyMs} ms of data-service CPU in the window. Full profile: \`${file}\`.

${shareTable('what the data-service does', summary.byCategory, 20)}

${shareTable('self time, by function', summary.byFunction)}

${shareTable('self time, by package or file', summary.byPackage)}

${shareTable('inclusive time, our functions', summary.ourFunctions)}
`;
}

/**
 * The data-service under `node --cpu-prof`: one process for an ingest and the uncached query
 * runs, a second (cache on) for the cached wrk run. Written to bench/results/data-profile.*.
 */
export async function profileData(
  stack: Stack,
  options: { file: string; runs: number; load: Load; profileDir: string },
): Promise<void> {
  const { profileDir, load } = options;
  const marks: Record<string, number> = {};
  const mark = (name: string) => (marks[name] = performance.now());

  mark('ingestStart');
  const ingest: IngestRun = await ingestApi(stack, options.file, 'events_1');
  mark('ingestEnd');
  await untilQuiet();
  mark('queryStart');
  const query: Timings = await timeApi(stack, groupBySql('events_1'), options.runs, 3);
  mark('queryEnd');
  await stack.stopData();
  mark('firstExited');
  const firstProfile = await keep(path.join(profileDir, 'first'), 'ingest-query');

  const cachedDir = path.join(profileDir, 'cached');
  await startCached(stack, groupBySql('events_1'), ['--cpu-prof', `--cpu-prof-dir=${cachedDir}`]);
  const body = JSON.stringify({ sql: groupBySql('events_1') });
  const url = `${stack.gatewayUrl}/api/v1/data/query`;
  await untilQuiet();
  mark('cachedStart');
  const pids = { gateway: stack.processes.gateway.child.pid, data: stack.processes.data.child.pid };
  const cached: Measured = await measure(url, { ...load, headers: stack.auth, jsonBody: body }, pids);
  mark('cachedEnd');
  await stack.stopData();
  mark('cachedExited');
  const cachedProfile = await keep(cachedDir, 'cached');

  const ingestSummary = await summarizeFile(
    firstProfile,
    windowOf(marks.ingestStart!, marks.ingestEnd!, marks.firstExited!),
    CATEGORIES,
  );
  const querySummary = await summarizeFile(
    firstProfile,
    windowOf(marks.queryStart!, marks.queryEnd!, marks.firstExited!),
    CATEGORIES,
  );
  const cachedSummary = await summarizeFile(
    cachedProfile,
    windowOf(marks.cachedStart!, marks.cachedEnd!, marks.cachedExited!),
    CATEGORIES,
  );

  const host = machine();
  const code = await codeVersion();
  const date = new Date().toISOString();
  const markdown = `# Data-service profile

${date} · commit ${code.commit.slice(0, 7)}${code.modified ? ' (with uncommitted changes)' : ''} · ${host.nproc} cores · Node ${host.node} · \`npm run bench -- data --profile\`

The data-service under \`node --cpu-prof\` (which slows it a little), behind the api-gateway as in \`data.md\`.
Each sample goes to the category of the frame nearest the leaf that matches one; \`(garbage collector)\`,
\`(program)\` and \`other\` are what no category claims.

${section('Ingest', `One upload of ${ingest.rows} rows through the gateway: ${ingest.seconds.toFixed(2)} s, ${ingest.rowsPerS.toFixed(0)} rows/s (profiled).`, ingestSummary, firstProfile)}
${section('Group-by, not cached', `${query.ms.length} sequential calls (cache off): p50 ${query.p50Ms.toFixed(1)} ms.`, querySummary, firstProfile)}
${section('Group-by, cached', `wrk ${load.threads} threads × ${load.connections} connections, ${load.warmupS} s warm-up + ${load.durationS} s (both in the window).`, cachedSummary, cachedProfile)}
${latencyTable([['cached query (profiled)', cached]])}

CPU µs per request: ${Object.entries(cached.cpuUsPerRequest)
    .map(([name, us]) => `${name} ${us}`)
    .join(', ')}.
`;
  const files = await writeResults(
    'data-profile',
    {
      date,
      code,
      machine: host,
      ingest: { run: ingest, profile: ingestSummary },
      query: { timings: query, profile: querySummary },
      cached: { result: cached, profile: cachedSummary },
    },
    markdown,
  );
  console.log(`\n${markdown}\nWritten: ${files.map((f) => path.relative(process.cwd(), f)).join(', ')}`);
}
