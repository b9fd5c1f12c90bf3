import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '@datalab/contracts';
import { person } from '../../../../test/internal.ts';
import { queryOnce } from '../../../../test/processes.ts';
import {
  JOBS,
  rowsOf,
  runJob,
  startDataJobs,
  uploadCsv,
  waitForFinal,
  type DataJobs,
  type JobView,
} from './jobs.test-fixtures.ts';
import type { OutputResult } from './job-output.ts';

let jobs: DataJobs;
const alice = person('editor');
const bob = person('editor');
let sales: { id: string; name: string };
let secret: { id: string; name: string };

beforeAll(async () => {
  jobs = await startDataJobs();
  sales = await uploadCsv(jobs, alice, 'region,amount\nnorth,10\nsouth,5\nnorth,7\neast,1\n');
  secret = await uploadCsv(jobs, bob, 'code\nsesame\n');
});
afterAll(async () => jobs?.close());

describe('the sql job', () => {
  it('materialises a query as a new dataset of its owner, with the values and types of the answer', async () => {
    const job = await runJob(jobs, alice, 'sql', {
      sql: `SELECT region, sum(amount) AS total, count(*) > 1 AS repeated FROM ${sales.name} GROUP BY region ORDER BY region`,
    });
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.progress).toBe(100);
    const result = job.result as OutputResult;
    expect(result.row_count).toBe(3);
    expect(result.columns.map((c) => [c.name, c.type])).toEqual([
      ['region', 'text'],
      ['total', 'float'], // sum() of bigint is numeric, which the query answer types as float
      ['repeated', 'boolean'],
    ]);
    const made = await rowsOf(jobs, alice, result.name, 'region, total, repeated');
    expect(made.rows).toEqual([
      ['east', 1, false],
      ['north', 17, true],
      ['south', 5, false],
    ]);
    const dataset = await jobs.call<{ owner_id: string; visibility: string }>(
      alice,
      jobs.data,
      'GET',
      result.url,
    );
    expect(dataset.body).toMatchObject({ owner_id: alice.userId, visibility: 'private' });
    // Private to its owner like any dataset.
    expect((await jobs.call(bob, jobs.data, 'GET', result.url)).status).toBe(404);
  });

  it('is idempotent: an attempt that runs again answers with the same dataset, not a second one', async () => {
    const job = await runJob(jobs, alice, 'sql', { sql: `SELECT * FROM ${sales.name}`, name: 'sql_again' });
    expect(job.state).toBe('succeeded');
    // What a worker that died after committing leaves behind: the job queued again, its dataset made.
    await queryOnce(
      jobs.databaseUrl,
      `UPDATE compute.jobs SET state = 'queued', result = NULL, finished_at = NULL WHERE id = '${job.id}'`,
    );
    const rerun = await waitForFinal(jobs, alice, job.id);
    expect(rerun).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect(rerun.result).toEqual(job.result);
    const count = await queryOnce(
      jobs.databaseUrl,
      "SELECT count(*)::int AS n FROM data.datasets WHERE name = 'sql_again'",
    );
    expect(count[0]?.n).toBe(1);
  });

  it("cannot read another user's private dataset, nor anything outside the datasets", async () => {
    const theirs = await runJob(jobs, alice, 'sql', { sql: `SELECT * FROM ${secret.name}` });
    expect(theirs.state).toBe('failed');
    expect(theirs.error?.message).toMatch(/not found/);

    const auth = await runJob(jobs, alice, 'sql', { sql: 'SELECT * FROM auth.users' });
    expect(auth.state).toBe('failed');
    expect(auth.error?.message).toMatch(/without a schema/);

    const catalog = await runJob(jobs, alice, 'sql', { sql: 'SELECT * FROM pg_catalog.pg_authid' });
    expect(catalog.state).toBe('failed');

    const write = await runJob(jobs, alice, 'sql', { sql: `DELETE FROM ${sales.name}` });
    expect(write.state).toBe('failed');
    expect(write.error?.message).toMatch(/not allowed/);
    expect((await rowsOf(jobs, alice, sales.name)).rows).toHaveLength(4);
  });

  it('stops soon after a cancel, leaving neither table nor dataset behind', async () => {
    const numbers = await uploadCsv(
      jobs,
      alice,
      `x\n${Array.from({ length: 3000 }, (_, i) => i).join('\n')}\n`,
    );
    const submitted = await jobs.call<JobView>(alice, jobs.compute, 'POST', JOBS, {
      type: 'sql',
      params: {
        sql: `SELECT a.x, b.x AS y FROM ${numbers.name} a CROSS JOIN ${numbers.name} b`,
        name: 'never_made',
      },
    });
    const id = submitted.body.id;
    // Cancelled while rows are being written.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { body } = await jobs.call<JobView>(alice, jobs.compute, 'GET', `${JOBS}/${id}`);
      if (body.progress_message?.includes('rows written')) break;
      if (Date.now() > deadline || (body.state !== 'queued' && body.state !== 'running'))
        throw new Error(`the job did not start writing: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const cancelledAt = Date.now();
    expect((await jobs.call(alice, jobs.compute, 'POST', `${JOBS}/${id}/cancel`)).status).toBe(200);
    const table = `j_${id.replace(/-/g, '')}`;
    for (;;) {
      const left = await queryOnce(
        jobs.databaseUrl,
        `SELECT to_regclass('datasets.${table}') AS t, (SELECT count(*)::int FROM data.datasets WHERE name = 'never_made') AS n,
           (SELECT count(*)::int FROM pg_stat_activity WHERE query LIKE 'COPY datasets.%${table}%' AND state <> 'idle') AS copying`,
      );
      if (left[0]?.t === null && left[0]?.copying === 0) break;
      expect(Date.now() - cancelledAt, 'the COPY should have stopped within 5 s').toBeLessThan(5000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const job = await waitForFinal(jobs, alice, id);
    expect(job.state).toBe('cancelled');
    const datasets = await queryOnce(
      jobs.databaseUrl,
      "SELECT count(*)::int AS n FROM data.datasets WHERE name = 'never_made'",
    );
    expect(datasets[0]?.n).toBe(0);
  });

  it('refuses bad params with 400 naming the field', async () => {
    const missing = await jobs.call<Problem>(alice, jobs.compute, 'POST', JOBS, { type: 'sql', params: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([
      { field: '/body/params', message: expect.stringContaining('sql') as unknown },
    ]);

    const badName = await jobs.call<Problem>(alice, jobs.compute, 'POST', JOBS, {
      type: 'sql',
      params: { sql: 'SELECT 1', name: 'Not A Name' },
    });
    expect(badName.status).toBe(400);
    expect(badName.body.errors?.map((e) => e.field)).toEqual(['/body/params/name']);
  });
});
