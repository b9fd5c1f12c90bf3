import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '@datalab/contracts';
import { person } from '../../../../test/internal.ts';
import { JOBS, rowsOf, runJob, startDataJobs, type DataJobs } from './jobs.test-fixtures.ts';
import type { OutputResult } from './job-output.ts';

const CSV = 'city,population,capital\nOslo,709000,true\nBergen,291000,false\n';
const JSON_ROWS = JSON.stringify([
  { id: 1, tag: 'a' },
  { id: 2, tag: 'b' },
]);

interface Served {
  server: Server;
  base: string;
  hits: string[];
}

/** A file server on `host` that answers `routes` and remembers every path asked for. */
async function serve(
  host: string,
  routes: Record<
    string,
    (base: string) => { status: number; headers: Record<string, string>; body?: string }
  >,
): Promise<Served> {
  const hits: string[] = [];
  const served = { hits } as Served;
  const server = createServer((request, response) => {
    hits.push(request.url ?? '');
    const route = routes[request.url ?? ''];
    if (!route) return void response.writeHead(404).end();
    const answer = route(served.base);
    response.writeHead(answer.status, answer.headers).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  served.server = server;
  served.base = `http://${host}:${(server.address() as AddressInfo).port}`;
  return served;
}

let jobs: DataJobs;
let loopback: Served;
let allowed: Served;
const editor = person('editor');

beforeAll(async () => {
  loopback = await serve('127.0.0.1', {
    '/x.csv': () => ({ status: 200, headers: { 'content-type': 'text/csv' }, body: CSV }),
  });
  allowed = await serve('127.0.0.2', {
    '/cities.csv': () => ({ status: 200, headers: { 'content-type': 'text/csv' }, body: CSV }),
    '/export?kind=rows': () => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON_ROWS,
    }),
    '/moved': () => ({ status: 301, headers: { location: '/cities.csv' } }),
    '/to-loopback': () => ({ status: 302, headers: { location: `${loopback.base}/x.csv` } }),
  });
  // Only this one non-public address is opened by configuration; 127.0.0.1 stays refused.
  jobs = await startDataJobs({ DATA_IMPORT_ALLOWED_NETWORKS: '127.0.0.2/32' });
});
afterAll(async () => {
  await jobs?.close();
  loopback?.server.close();
  allowed?.server.close();
});

describe('import-url', () => {
  it('imports a CSV from an allowed server into a dataset of the owner, values and types intact', async () => {
    const job = await runJob(jobs, editor, 'import-url', {
      url: `${allowed.base}/cities.csv`,
      name: 'cities',
    });
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const result = job.result as OutputResult;
    expect(result).toMatchObject({ name: 'cities', row_count: 2 });
    expect(result.columns.map((c) => [c.name, c.type])).toEqual([
      ['city', 'text'],
      ['population', 'integer'],
      ['capital', 'boolean'],
    ]);
    const rows = await rowsOf(jobs, editor, 'cities', 'city, population, capital');
    expect(rows.rows).toEqual([
      ['Oslo', 709000, true],
      ['Bergen', 291000, false],
    ]);
  });

  it('follows redirects to allowed addresses and tells JSON by its Content-Type', async () => {
    const moved = await runJob(jobs, editor, 'import-url', { url: `${allowed.base}/moved` });
    expect(moved.state, JSON.stringify(moved.error)).toBe('succeeded');
    expect((moved.result as OutputResult).row_count).toBe(2);

    const json = await runJob(jobs, editor, 'import-url', { url: `${allowed.base}/export?kind=rows` });
    expect(json.state, JSON.stringify(json.error)).toBe('succeeded');
    const rows = await rowsOf(jobs, editor, (json.result as OutputResult).name, 'id, tag');
    expect(rows.rows).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
  });

  it.each([
    ['loopback', () => `${loopback.base}/x.csv`, '127.0.0.1'],
    ['loopback by name', () => `${loopback.base.replace('127.0.0.1', 'localhost')}/x.csv`, ''],
    ['IPv6 loopback', () => `http://[::1]:${new URL(loopback.base).port}/x.csv`, '::1'],
    ['cloud metadata (link-local)', () => 'http://169.254.169.254/latest/meta-data', '169.254.169.254'],
    ['a private 10.x address', () => 'http://10.20.30.40/data.csv', '10.20.30.40'],
    ['an IPv4-mapped loopback', () => `http://[::ffff:127.0.0.1]:${new URL(loopback.base).port}/x.csv`, ''],
    ['a redirect to loopback', () => `${allowed.base}/to-loopback`, '127.0.0.1'],
  ])('refuses %s, without a request reaching it', async (_what, url, address) => {
    const before = loopback.hits.length;
    const job = await runJob(jobs, editor, 'import-url', { url: url() });
    expect(job.state).toBe('failed');
    expect(job.attempts).toBe(1); // refused for good, not retried
    expect(job.error?.message).toMatch(/not a public address/);
    if (address) expect(job.error?.message).toContain(address);
    expect(loopback.hits.length).toBe(before);
  });

  it('refuses params that are not an http(s) URL with 400 naming the field', async () => {
    const answer = await jobs.call<Problem>(editor, jobs.compute, 'POST', JOBS, {
      type: 'import-url',
      params: { url: 'file:///etc/passwd' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.map((e) => e.field)).toEqual(['/body/params/url']);
  });
});
