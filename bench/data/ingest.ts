import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { perRequest, snapshot, untilQuiet } from '../lib/cpu.ts';
import { COLUMNS } from './csv.ts';
import { withClient } from '../lib/database.ts';
import type { Stack } from './stack.ts';

const run = promisify(execFile);

export interface IngestRun {
  side: 'api' | 'psql';
  /** The dataset (API) or table (psql) written. */
  target: string;
  rows: number;
  seconds: number;
  rowsPerS: number;
  /** Cores other work kept busy just before the run (see ../lib/cpu.ts). */
  busyBefore: number;
  /** CPU seconds spent during the run, per process group; processes gone by its end (curl, psql and its backend) count in `rest`. */
  cpuSeconds: Record<string, number>;
}

/** Wall-clock seconds of `work`, and the CPU seconds the stack's processes and the machine spent meanwhile. */
async function timed<T>(stack: Stack, work: () => Promise<T>) {
  const pids = { gateway: stack.processes.gateway.child.pid, data: stack.processes.data.child.pid };
  const before = await snapshot(pids);
  const started = performance.now();
  const value = await work();
  const seconds = (performance.now() - started) / 1000;
  const spent = perRequest(before, await snapshot(pids), 1);
  const cpuSeconds = Object.fromEntries(Object.entries(spent).map(([name, us]) => [name, us / 1e6]));
  return { value, seconds, cpuSeconds };
}

/** The same start for every run: nothing else on the cores, and no checkpoint owed from the run before. */
async function level(databaseUrl: string): Promise<number> {
  await withClient(databaseUrl, (client) => client.query('CHECKPOINT'));
  return untilQuiet();
}

/** The command line of an upload, as a user would type it (curl streams the file from disk). */
export function curlArgs(url: string, authorization: string, name: string, file: string): string[] {
  return [
    '--silent',
    '--show-error',
    '--header',
    `authorization: ${authorization}`,
    // Send the body at once instead of waiting for "100 Continue".
    '--header',
    'expect:',
    '--form',
    `name=${name}`,
    '--form',
    `file=@${file};type=text/csv`,
    '--write-out',
    '\n%{http_code}',
    `${url}/api/v1/data/datasets`,
  ];
}

/** POST the file as multipart through the gateway, timed from curl's start to its exit. */
export async function ingestApi(stack: Stack, file: string, name: string): Promise<IngestRun> {
  const busyBefore = await level(stack.databaseUrl);
  const args = curlArgs(stack.gatewayUrl, stack.auth.authorization!, name, file);
  const { value, seconds, cpuSeconds } = await timed(stack, () => run('curl', args, { maxBuffer: 1 << 24 }));
  const [body = '', status] = value.stdout.split(/\n(?=\d+$)/);
  if (status !== '201') throw new Error(`upload ${name}: HTTP ${status} ${body.slice(0, 2000)}`);
  const answer = JSON.parse(body) as {
    rows_written: number;
    dataset: { columns: { name: string; type: string }[] };
  };
  const types = answer.dataset.columns.map((column) => `${column.name}:${column.type}`).join(', ');
  const expected = COLUMNS.map((column) => `${column.name}:${column.type}`).join(', ');
  if (types !== expected) throw new Error(`upload ${name}: inferred ${types}, expected ${expected}`);
  const rows = answer.rows_written;
  return { side: 'api', target: name, rows, seconds, rowsPerS: rows / seconds, busyBefore, cpuSeconds };
}

export const peerTableSql = (table: string): string =>
  `CREATE TABLE ${table} (${COLUMNS.map((column) => `${column.name} ${column.sql}`).join(', ')})`;

export const copyCommand = (table: string, file: string): string =>
  `\\copy ${table} (${COLUMNS.map((column) => column.name).join(', ')}) FROM '${file}' WITH (FORMAT csv, HEADER true)`;

/** `psql -c "\copy …"` into a plain table created beforehand, timed from psql's start to its exit. */
export async function ingestPsql(stack: Stack, file: string, table: string): Promise<IngestRun> {
  const { databaseUrl } = stack;
  await withClient(databaseUrl, (client) => client.query(peerTableSql(table)));
  const busyBefore = await level(databaseUrl);
  const args = [databaseUrl, '-X', '-v', 'ON_ERROR_STOP=1', '-c', copyCommand(table, file)];
  const { value, seconds, cpuSeconds } = await timed(stack, () => run('psql', args));
  const match = /^COPY (\d+)$/m.exec(value.stdout);
  if (!match) throw new Error(`psql \\copy printed no row count: ${value.stdout}${value.stderr}`);
  const rows = Number(match[1]);
  return { side: 'psql', target: table, rows, seconds, rowsPerS: rows / seconds, busyBefore, cpuSeconds };
}
