import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { INTERNAL_TOKEN_HEADER } from '@datalab/platform';
import type { BenchContext } from '../lib/bench.ts';
import { busyCores, untilQuiet } from '../lib/cpu.ts';
import { createCleanup, type Cleanup } from '../lib/processes.ts';
import { codeVersion, machine, writeResults } from '../lib/report.ts';
import { measure } from '../lib/measure.ts';
import { wrkVersion } from '../lib/wrk.ts';
import { COLUMNS, writeCsv } from './csv.ts';
import { copyCommand, ingestApi, ingestPsql, type IngestRun } from './ingest.ts';
import { profileData } from './profile.ts';
import { compareQuery, groupBySql, startCached } from './query.ts';
import { markdownReport, TARGETS, verdict, type Outcome } from './report.ts';
import { withClient } from '../lib/database.ts';
import { startStack, type Stack } from './stack.ts';

export const description =
  'Ingest a 1M-row CSV through the API vs psql \\copy; a group-by through the API vs psql; that query cached.';

function parseOptions(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      rows: { type: 'string', default: '1000000' },
      rounds: { type: 'string', default: '2' },
      runs: { type: 'string', default: '20' },
      duration: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '5' },
      threads: { type: 'string', default: '2' },
      connections: { type: 'string', default: '64' },
      profile: { type: 'boolean', default: false },
    },
  });
  return {
    rows: Number(values.rows),
    rounds: Number(values.rounds),
    runs: Number(values.runs),
    profile: values.profile,
    load: {
      durationS: Number(values.duration),
      warmupS: Number(values.warmup),
      threads: Number(values.threads),
      connections: Number(values.connections),
    },
  };
}

const best = (runs: IngestRun[], side: IngestRun['side']): IngestRun =>
  runs.filter((r) => r.side === side).reduce((top, r) => (r.rowsPerS > top.rowsPerS ? r : top));

async function tableOf(databaseUrl: string, dataset: string): Promise<string> {
  const result = await withClient(databaseUrl, (client) =>
    client.query<{ table_name: string }>('SELECT table_name FROM data.datasets WHERE name = $1', [dataset]),
  );
  return `datasets."${result.rows[0]!.table_name}"`;
}

async function versions(databaseUrl: string): Promise<Record<string, string>> {
  const firstLine = async (command: string, args: string[]) =>
    (await promisify(execFile)(command, args)).stdout.split('\n')[0]!.trim();
  const server = await withClient(databaseUrl, (client) =>
    client.query<{ server_version: string }>('SHOW server_version'),
  );
  return {
    psql: await firstLine('psql', ['--version']),
    postgres: `PostgreSQL ${server.rows[0]!.server_version}`,
    curl: await firstLine('curl', ['--version']),
    wrk: await wrkVersion(),
  };
}

/** API and psql in turn, `rounds` times, each into a new dataset or table. */
async function ingestRounds(stack: Stack, file: string, rows: number, rounds: number): Promise<IngestRun[]> {
  const runs: IngestRun[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const next of [
      () => ingestApi(stack, file, `events_${round}`),
      () => ingestPsql(stack, file, `peer_${round}`),
    ]) {
      const r = await next();
      if (r.rows !== rows) throw new Error(`${r.target}: ${r.rows} rows written, not ${rows}`);
      console.log(`  ${r.side} → ${r.target}: ${r.seconds.toFixed(2)} s, ${r.rowsPerS.toFixed(0)} rows/s`);
      runs.push(r);
    }
  }
  return runs;
}

async function compare(
  stack: Stack,
  options: ReturnType<typeof parseOptions>,
  file: { path: string; bytes: number },
  busy: number,
  command: string,
): Promise<void> {
  const { rows, rounds, runs, load } = options;
  console.log('Ingest');
  const ingestRuns = await ingestRounds(stack, file.path, rows, rounds);

  console.log(`Group-by, not cached (${runs} runs each)`);
  const dataset = `events_${rounds}`;
  const tables = {
    dataset,
    datasetTable: await tableOf(stack.databaseUrl, dataset),
    peerTable: `peer_${rounds}`,
  };
  const sql = groupBySql(dataset);
  const query = await compareQuery(stack, tables, runs);
  console.log(
    `  p50: API ${query.api.p50Ms.toFixed(1)} ms, psql ${query.psqlSameTable.p50Ms.toFixed(1)} ms (same table), ${query.psqlPeerTable.p50Ms.toFixed(1)} ms (peer table), ${query.psqlSerial.p50Ms.toFixed(1)} ms (no parallel workers)`,
  );

  console.log('Cached, through the gateway (the data-service restarted with its cache on)');
  await stack.stopData();
  await startCached(stack, sql);
  const cachedBusyBefore = await untilQuiet();
  const pids = { gateway: stack.processes.gateway.child.pid, data: stack.processes.data.child.pid };
  const body = JSON.stringify({ sql });
  const cached = await measure(
    `${stack.gatewayUrl}/api/v1/data/query`,
    { ...load, headers: stack.auth, jsonBody: body },
    pids,
  );
  console.log(
    `  ${cached.reqPerS.toFixed(0)} req/s, p50 ${cached.p50Ms.toFixed(2)} ms, p95 ${cached.p95Ms.toFixed(2)} ms`,
  );
  console.log('Cached, straight to the data-service (the ceiling for any gateway)');
  const directBusyBefore = await untilQuiet();
  const direct = await measure(
    `${stack.dataUrl}/api/v1/data/query`,
    { ...load, headers: { [INTERNAL_TOKEN_HEADER]: await stack.internalToken() }, jsonBody: body },
    pids,
  );
  console.log(
    `  ${direct.reqPerS.toFixed(0)} req/s, p50 ${direct.p50Ms.toFixed(2)} ms, p95 ${direct.p95Ms.toFixed(2)} ms`,
  );

  const outcome: Outcome = {
    date: new Date().toISOString(),
    code: await codeVersion(),
    versions: { ...machine(), ...(await versions(stack.databaseUrl)) },
    busyBefore: busy,
    file: { rows, bytes: file.bytes, columns: COLUMNS.map((c) => `${c.name} ${c.type}`).join(', ') },
    ingest: { runs: ingestRuns, api: best(ingestRuns, 'api'), psql: best(ingestRuns, 'psql') },
    query: { ...query, sql },
    cached: { ...cached, busyBefore: cachedBusyBefore },
    cachedDirect: { ...direct, busyBefore: directBusyBefore },
    load,
    commands: {
      bench: command,
      upload: `curl -H 'authorization: Bearer $TOKEN' -H 'expect:' -F name=events_1 -F 'file=@events.csv;type=text/csv' $GATEWAY/api/v1/data/datasets`,
      copy: `psql -c "${copyCommand('peer_1', 'events.csv')}"`,
      wrk: `wrk -t${load.threads} -c${load.connections} -d${load.durationS}s --latency -s bench/lib/percentiles.lua -H 'authorization: Bearer $TOKEN' $GATEWAY/api/v1/data/query -- '{"sql": "…"}'`,
    },
  };
  const json = { bench: 'data', ...outcome, ...verdict(outcome), targets: TARGETS };
  const markdown = markdownReport(outcome);
  const files = await writeResults('data', json, markdown);
  console.log(`\n${markdown}\nWritten: ${files.map((f) => path.relative(process.cwd(), f)).join(', ')}`);
}

async function prepare(
  env: BenchContext['env'],
  rows: number,
  profileDir: string | undefined,
  cleanup: Cleanup,
) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'datalab-bench-data-'));
  // The CSV, the services' keys and the profiles are all in here.
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'events.csv');
  console.log(`Generating ${rows} rows…`);
  const bytes = await writeCsv(file, rows);
  console.log(`  ${(bytes / 1e6).toFixed(1)} MB`);
  console.log('Starting data-service (cache off) and api-gateway…');
  const stack = await startStack(
    {
      postgresUrl: env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      redisUrl: env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
      dataDir: path.join(dir, 'data'),
      cacheTtlSeconds: 0,
      dataNodeFlags: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, profileDir)}`] : [],
    },
    cleanup,
  );
  return { stack, file: { path: file, bytes }, dir };
}

export async function run({ args, env }: BenchContext): Promise<void> {
  const options = parseOptions(args);
  const cleanup = createCleanup();
  try {
    const busy = await busyCores();
    if (busy > 0.2) console.warn(`Warning: ${busy.toFixed(1)} cores are busy before the bench starts.`);
    const { stack, file, dir } = await prepare(
      env,
      options.rows,
      options.profile ? 'profile/first' : undefined,
      cleanup,
    );
    if (options.profile) {
      const profileDir = path.join(dir, 'profile');
      await profileData(stack, { file: file.path, runs: options.runs, load: options.load, profileDir });
    } else {
      await compare(stack, options, file, busy, ['npm run bench -- data', ...args].join(' '));
    }
  } finally {
    await cleanup.close();
  }
}
