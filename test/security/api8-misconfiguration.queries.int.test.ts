import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, startStack, type Stack } from './stack.ts';

/**
 * API8:2023 Security Misconfiguration — where user SQL runs. A deployment that gives DataLab no
 * restricted login for user SQL (QUERY_DATABASE_URL unset, as the production compose file's
 * workers once were) must not fall back to running callers' SQL on the services' own login, where
 * only the parser stands between a query and the owner's rights: SQL is refused, loudly, while
 * everything that runs DataLab's own SQL keeps working.
 */

interface Job {
  id: string;
  state: string;
  error: { message: string } | null;
}

describe('a DataLab without a login for user SQL', () => {
  let stack: Stack;
  let editor: string;
  let dataset: string;

  beforeAll(async () => {
    // DATABASE_URL set, QUERY_DATABASE_URL not: no embedded PostgreSQL to make a login.
    stack = await startStack({ QUERY_DATABASE_URL: '' });
    editor = (await stack.signedIn('editor')).token;
    dataset = `plain_${Date.now().toString(36)}`;
    const form = new FormData();
    form.append('name', dataset);
    form.append('file', new Blob(['region,amount\nnorth,10\nsouth,5\n']), 'plain.csv');
    const created = await fetch(`${stack.url}/api/v1/data/datasets`, {
      method: 'POST',
      headers: bearer(editor),
      body: form,
    });
    expect(created.status).toBe(201);
  }, 180_000);
  afterAll(() => stack?.close());

  const post = (path: string, body: unknown) =>
    fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: bearer(editor, true),
      body: JSON.stringify(body),
    });

  it('refuses SQL queries with 503 naming QUERY_DATABASE_URL, instead of running them on its own login', async () => {
    for (const sql of [`SELECT sum(amount) AS total FROM ${dataset}`, 'SELECT 1 AS one']) {
      const problem = await expectProblem(await post('/api/v1/data/query', { sql }), 503);
      expect(problem.detail).toMatch(/QUERY_DATABASE_URL is not set/);
    }
  });

  it.each([
    ['sql', (name: string) => ({ sql: `SELECT * FROM ${dataset}`, name })],
    ['transform', (name: string) => ({ dataset, steps: [{ op: 'filter', where: 'amount > 1' }], name })],
  ])(
    'runs %s jobs on DuckDB, which reads only the datasets the owner may read and needs no login',
    async (type, params) => {
      const name = `made_${type}_${Date.now().toString(36)}`;
      const submitted = await post('/api/v1/compute/jobs', { type, params: params(name) });
      expect(submitted.status).toBe(201);
      const { id } = (await submitted.json()) as Job;
      let job: Job;
      for (;;) {
        job = (await (
          await fetch(`${stack.url}/api/v1/compute/jobs/${id}`, { headers: bearer(editor) })
        ).json()) as Job;
        if (['succeeded', 'failed', 'dead', 'cancelled'].includes(job.state)) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
      const made = await fetch(`${stack.url}/api/v1/data/datasets/${name}`, { headers: bearer(editor) });
      expect(made.status).toBe(200);
      expect(((await made.json()) as { row_count: number }).row_count).toBe(2);
    },
  );

  it('still answers what runs DataLab’s own SQL: structured queries, pages of rows and exports', async () => {
    const structured = await post('/api/v1/data/query', {
      dataset,
      aggregates: [{ fn: 'sum', column: 'amount', as: 'total' }],
    });
    expect(structured.status).toBe(200);
    expect(await structured.json()).toMatchObject({ rows: [[15]] });
    const rows = await fetch(`${stack.url}/api/v1/data/datasets/${dataset}/rows`, {
      headers: bearer(editor),
    });
    expect(rows.status).toBe(200);
    const exported = await fetch(`${stack.url}/api/v1/data/datasets/${dataset}/export`, {
      headers: bearer(editor),
    });
    expect(await exported.text()).toBe('region,amount\r\nnorth,10\r\nsouth,5\r\n');
    stack.assertAlive();
  });
});
