import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { untilQuiet } from '../lib/cpu.ts';
import { withClient } from '../lib/database.ts';
import type { Stack } from './stack.ts';

const run = promisify(execFile);

/** The group-by aggregate, over a dataset name (API) or a table (psql). */
export const groupBySql = (from: string): string =>
  `SELECT category, count(*) AS n, avg(amount) AS avg_amount, max(day) AS last_day FROM ${from} GROUP BY category ORDER BY category`;

export interface Timings {
  /** Every measured run, in ms, in order. */
  ms: number[];
  p50Ms: number;
  minMs: number;
  maxMs: number;
  /** Cores other work kept busy just before the runs (see ../lib/cpu.ts). */
  busyBefore?: number;
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

function timings(ms: number[]): Timings {
  const sorted = [...ms].sort((a, b) => a - b);
  return { ms, p50Ms: percentile(sorted, 50), minMs: sorted[0]!, maxMs: sorted.at(-1)! };
}

interface Answer {
  status: number;
  cache: string | null;
  body: string;
}

/** One POST /api/v1/data/query through the gateway, over the bench process's kept-alive connection. */
export async function queryApi(stack: Stack, sql: string): Promise<Answer> {
  const response = await fetch(`${stack.gatewayUrl}/api/v1/data/query`, {
    method: 'POST',
    headers: { ...stack.auth, 'content-type': 'application/json' },
    body: JSON.stringify({ sql }),
  });
  return {
    status: response.status,
    cache: response.headers.get('x-datalab-cache'),
    body: await response.text(),
  };
}

/**
 * `runs` sequential calls after `warmup` unmeasured ones, each timed from the request to the
 * last byte of the answer; every one must be a cache miss.
 */
export async function timeApi(stack: Stack, sql: string, runs: number, warmup: number): Promise<Timings> {
  const ms: number[] = [];
  for (let i = -warmup; i < runs; i++) {
    const started = performance.now();
    const answer = await queryApi(stack, sql);
    const elapsed = performance.now() - started;
    if (answer.status !== 200 || answer.cache !== 'miss')
      throw new Error(`query: HTTP ${answer.status}, cache ${answer.cache}: ${answer.body.slice(0, 2000)}`);
    if (i >= 0) ms.push(elapsed);
  }
  return timings(ms);
}

/**
 * One psql session running the SQL `warmup + runs` times under `\timing`: psql's own
 * measure, from sending the query to having the whole result (printing excluded).
 * `setup` runs first, untimed.
 */
export async function timePsql(
  databaseUrl: string,
  sql: string,
  runs: number,
  warmup: number,
  setup: string[] = [],
): Promise<Timings> {
  const script = [...setup, '\\timing on', ...Array.from({ length: warmup + runs }, () => `${sql};`)].join(
    '\n',
  );
  const psql = spawn('psql', [databaseUrl, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-o', '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  psql.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  psql.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  psql.stdin.end(`${script}\n`);
  const code = await new Promise<number | null>((resolve) => psql.once('close', resolve));
  const ms = [...output.matchAll(/^Time: ([\d.]+) ms/gm)].map((match) => Number(match[1]));
  if (code !== 0 || ms.length !== warmup + runs) throw new Error(`psql timing failed (${code}):\n${output}`);
  return timings(ms.slice(warmup));
}

/** The answer's rows as `category|count|last_day` lines, to check the API and psql agree. */
export async function psqlRows(databaseUrl: string, sql: string): Promise<string[]> {
  const { stdout } = await run('psql', [databaseUrl, '-X', '-A', '-t', '-c', sql]);
  return stdout
    .trim()
    .split('\n')
    .map((line) => line.split('|'))
    .map(([category, n, , day]) => `${category}|${n}|${day}`);
}

export function apiRows(body: string): string[] {
  const answer = JSON.parse(body) as { rows: [string, number | string, number, string][] };
  return answer.rows.map(([category, n, , day]) => `${category}|${n}|${day}`);
}

/**
 * Starts the data-service again with its cache on (after `stack.stopData()`), waits until the
 * gateway reaches it, caches the answer to `sql` and checks that the next call is a hit.
 */
export async function startCached(stack: Stack, sql: string, nodeFlags: string[] = []): Promise<void> {
  await stack.startData(300, nodeFlags);
  // The gateway's health check finds the restarted instance within a couple of seconds.
  for (let attempt = 0; ; attempt++) {
    const answer = await queryApi(stack, sql);
    if (answer.status === 200) break;
    if (attempt > 50) throw new Error(`query after restart: HTTP ${answer.status} ${answer.body}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const hit = await queryApi(stack, sql);
  if (hit.status !== 200 || hit.cache !== 'hit') throw new Error(`expected a cache hit, got ${hit.cache}`);
}

/** PostgreSQL never runs a cursor's query (DECLARE … FETCH) with parallel workers. */
export const SERIAL = 'SET max_parallel_workers_per_gather = 0;';

export interface QueryComparison {
  api: Timings;
  /** psql on the dataset's own table: the same rows, the same pages the API reads. */
  psqlSameTable: Timings;
  /** psql on the plain table its \copy filled (no row id column, no primary key). */
  psqlPeerTable: Timings;
  /** psql on the dataset's table without parallel workers, as a cursor (the API's way) runs it. */
  psqlSerial: Timings;
  groups: number;
  /** EXPLAIN of the query as psql runs it, and as the API's cursor runs it. */
  plans: { plain: string; cursor: string };
}

/** The plans PostgreSQL picks for `sql` run plainly and declared as a cursor. */
async function plans(databaseUrl: string, sql: string): Promise<QueryComparison['plans']> {
  return withClient(databaseUrl, async (client) => {
    const explain = async (text: string) =>
      (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`)).rows
        .map((row) => row['QUERY PLAN'])
        .join('\n');
    const plain = await explain(sql);
    await client.query('BEGIN');
    const cursor = await explain(`DECLARE datalab_result NO SCROLL CURSOR FOR ${sql}`);
    await client.query('ROLLBACK');
    return { plain, cursor };
  });
}

/** The uncached aggregate: API, psql on the same table, psql on the peer table; `runs` each after a warm-up. */
export async function compareQuery(
  stack: Stack,
  tables: { dataset: string; datasetTable: string; peerTable: string },
  runs: number,
): Promise<QueryComparison> {
  const first = await queryApi(stack, groupBySql(tables.dataset));
  const expected = await psqlRows(stack.databaseUrl, groupBySql(tables.datasetTable));
  const peer = await psqlRows(stack.databaseUrl, groupBySql(tables.peerTable));
  const got = apiRows(first.body);
  if (JSON.stringify(got) !== JSON.stringify(expected) || JSON.stringify(peer) !== JSON.stringify(expected))
    throw new Error(`the API and psql answer differently:\n${got.join('\n')}\n---\n${expected.join('\n')}`);

  const warmup = 3;
  const quietly = async (work: () => Promise<Timings>): Promise<Timings> => {
    const busyBefore = await untilQuiet();
    return { ...(await work()), busyBefore };
  };
  const api = await quietly(() => timeApi(stack, groupBySql(tables.dataset), runs, warmup));
  const psqlSameTable = await quietly(() =>
    timePsql(stack.databaseUrl, groupBySql(tables.datasetTable), runs, warmup),
  );
  const psqlPeerTable = await quietly(() =>
    timePsql(stack.databaseUrl, groupBySql(tables.peerTable), runs, warmup),
  );
  const psqlSerial = await quietly(() =>
    timePsql(stack.databaseUrl, groupBySql(tables.datasetTable), runs, warmup, [SERIAL]),
  );
  return {
    api,
    psqlSameTable,
    psqlPeerTable,
    psqlSerial,
    groups: got.length,
    plans: await plans(stack.databaseUrl, groupBySql(tables.datasetTable)),
  };
}
