import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '@datalab/contracts';
import { person } from '../../../../test/internal.ts';
import { queryOnce } from '../../../../test/processes.ts';
import {
  JOBS,
  readVersion,
  rowsOf,
  runJob,
  startDataJobs,
  unnamedInStorage,
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
      ['total', 'integer'], // DuckDB's sum() of BIGINT is HUGEINT: an integer (PostgreSQL's was numeric, a float)
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
    // The second attempt wrote no file either, or took the first one's away.
    expect(await unnamedInStorage(jobs)).toEqual([]);
    expect((await readVersion(jobs, (job.result as OutputResult).dataset_id)).rows).toHaveLength(4);
  });

  it("cannot read another user's private dataset, nor anything outside the datasets", async () => {
    const theirs = await runJob(jobs, alice, 'sql', { sql: `SELECT * FROM ${secret.name}` });
    expect(theirs.state).toBe('failed');
    expect(theirs.error?.message).toContain(`Dataset "${secret.name}" not found`);
    const hidden = await runJob(jobs, alice, 'sql', {
      sql: `SELECT s.code FROM ${sales.name} JOIN ${secret.name} AS s ON true`,
    });
    expect(hidden.error?.message).toContain(`Dataset "${secret.name}" not found`);

    const auth = await runJob(jobs, alice, 'sql', { sql: 'SELECT * FROM auth.users' });
    expect(auth.state).toBe('failed');
    expect(auth.error?.message).toMatch(/without a catalog or schema/);

    const catalog = await runJob(jobs, alice, 'sql', { sql: 'SELECT * FROM pg_catalog.pg_authid' });
    expect(catalog.state).toBe('failed');

    const write = await runJob(jobs, alice, 'sql', { sql: `DELETE FROM ${sales.name}` });
    expect(write.state).toBe('failed');
    expect(write.error?.message).toMatch(/not allowed/);
    expect((await rowsOf(jobs, alice, sales.name)).rows).toHaveLength(4);
    expect(await unnamedInStorage(jobs)).toEqual([]);
  });

  it('stops soon after a cancel, leaving no file, table or dataset behind', async () => {
    const numbers = await uploadCsv(
      jobs,
      alice,
      `x\n${Array.from({ length: 3000 }, (_, i) => i).join('\n')}\n`,
    );
    const submitted = await jobs.call<JobView>(alice, jobs.compute, 'POST', JOBS, {
      type: 'sql',
      params: {
        // 27 billion rows: DuckDB is still writing them when the cancel comes.
        sql: `SELECT a.x, b.x AS y, c.x AS z FROM ${numbers.name} a, ${numbers.name} b, ${numbers.name} c`,
        name: 'never_made',
      },
    });
    const id = submitted.body.id;
    // Cancelled while DuckDB writes the rows into the version's file.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { body } = await jobs.call<JobView>(alice, jobs.compute, 'GET', `${JOBS}/${id}`);
      if (body.progress_message?.includes('writing') && (await unnamedInStorage(jobs)).length > 0) break;
      if (Date.now() > deadline || (body.state !== 'queued' && body.state !== 'running'))
        throw new Error(`the job did not start writing: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const cancelledAt = Date.now();
    expect((await jobs.call(alice, jobs.compute, 'POST', `${JOBS}/${id}/cancel`)).status).toBe(200);
    // DuckDB is interrupted and the staged version folder discarded: nothing the catalog does not name is left.
    while ((await unnamedInStorage(jobs)).length > 0) {
      expect(Date.now() - cancelledAt, 'the write should have stopped within 5 s').toBeLessThan(5000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const job = await waitForFinal(jobs, alice, id);
    expect(job.state).toBe('cancelled');
    const left = await queryOnce(
      jobs.databaseUrl,
      `SELECT to_regclass('datasets.j_${id.replace(/-/g, '')}') AS t,
         (SELECT count(*)::int FROM data.datasets WHERE name = 'never_made') AS n`,
    );
    expect(left[0]).toEqual({ t: null, n: 0 });
  });

  it('writes the answer as a Parquet version the engine reads back, each column as its DataLab type', async () => {
    const job = await runJob(jobs, alice, 'sql', {
      sql: `SELECT region, amount, amount / 2 AS half, amount::DECIMAL(9,2) AS price, sum(amount) OVER () AS total,
              amount > 5 AS big, DATE '2024-03-01' + amount::INTEGER AS day,
              TIMESTAMP '2024-03-01 10:00:00' AS naive, TIMESTAMPTZ '2024-03-01 10:00:00+02' AS aware,
              {'region': region, 'n': amount} AS nested, [amount, 1] AS list, '{"a": [1]}'::JSON AS doc,
              INTERVAL 1 DAY AS span, encode(region) AS raw, 1 AS "Two Words", 2 AS "two words"
            FROM ${sales.name} ORDER BY amount DESC`,
    });
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const result = job.result as OutputResult;
    expect(result.columns.map((c) => [c.name, c.original_name, c.type])).toEqual([
      ['region', 'region', 'text'],
      ['amount', 'amount', 'integer'],
      ['half', 'half', 'float'],
      ['price', 'price', 'float'],
      ['total', 'total', 'integer'],
      ['big', 'big', 'boolean'],
      ['day', 'day', 'date'],
      ['naive', 'naive', 'timestamp'],
      ['aware', 'aware', 'timestamp'],
      ['nested', 'nested', 'json'],
      ['list', 'list', 'json'],
      ['doc', 'doc', 'json'],
      // Types DataLab has no type for are text, as the query API shows them.
      ['span', 'span', 'text'],
      ['raw', 'raw', 'text'],
      ['two_words', 'Two Words', 'integer'],
      ['two_words_2', 'two words', 'integer'],
    ]);
    const version = await readVersion(jobs, result.dataset_id);
    expect(version.columns).toEqual(
      [
        ['region', 'VARCHAR'],
        ['amount', 'BIGINT'],
        ['half', 'DOUBLE'],
        ['price', 'DOUBLE'],
        ['total', 'BIGINT'],
        ['big', 'BOOLEAN'],
        ['day', 'DATE'],
        ['naive', 'TIMESTAMP WITH TIME ZONE'],
        ['aware', 'TIMESTAMP WITH TIME ZONE'],
        ['nested', 'JSON'],
        ['list', 'JSON'],
        ['doc', 'JSON'],
        ['span', 'VARCHAR'],
        ['raw', 'VARCHAR'],
        ['two_words', 'BIGINT'],
        ['two_words_2', 'BIGINT'],
      ].map(([name, duckdbType]) => ({ name, duckdbType })),
    );
    // In the answer's order; a naive timestamp is taken as UTC.
    expect(version.rows.map((row) => row.slice(0, 9))).toEqual([
      ['north', 10, 5, 10, 23, true, '2024-03-11', '2024-03-01T10:00:00Z', '2024-03-01T08:00:00Z'],
      ['north', 7, 3.5, 7, 23, true, '2024-03-08', '2024-03-01T10:00:00Z', '2024-03-01T08:00:00Z'],
      ['south', 5, 2.5, 5, 23, false, '2024-03-06', '2024-03-01T10:00:00Z', '2024-03-01T08:00:00Z'],
      ['east', 1, 0.5, 1, 23, false, '2024-03-02', '2024-03-01T10:00:00Z', '2024-03-01T08:00:00Z'],
    ]);
    // JSON is stored as JSON text (as it was written: DuckDB keeps a JSON value's own spacing).
    const [nested, list, doc, ...rest] = version.rows[0]!.slice(9);
    expect([nested, list, doc].map((text) => JSON.parse(String(text)) as unknown)).toEqual([
      { region: 'north', n: 10 },
      [10, 1],
      { a: [1] },
    ]);
    expect(rest).toEqual(['1 day', Buffer.from('north').toString('base64'), 1, 2]);
    // The dataset reads the same through the query API.
    const made = await rowsOf(jobs, alice, result.name, 'region, amount, day, nested');
    expect(made.rows[0]).toEqual(['north', 10, '2024-03-11', { region: 'north', n: 10 }]);
  });

  it('fails naming the column when a whole number does not fit an integer, writing nothing', async () => {
    const job = await runJob(jobs, alice, 'sql', {
      sql: `SELECT region, sum(amount) * 170141183460469231731687303715884105 AS huge FROM ${sales.name} GROUP BY region`,
      name: 'too_wide',
    });
    expect({ state: job.state, attempts: job.attempts }).toEqual({ state: 'failed', attempts: 1 });
    expect(job.error?.message).toMatch(/column "huge": the value does not fit a 64-bit integer/);
    const made = await queryOnce(
      jobs.databaseUrl,
      "SELECT count(*)::int AS n FROM data.datasets WHERE name = 'too_wide'",
    );
    expect(made[0]?.n).toBe(0);
    expect(await unnamedInStorage(jobs)).toEqual([]);
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
