import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, startStack, type Stack } from './stack.ts';

/**
 * Oversized values, rows and answers, sent as SQL by a viewer — only functions the SQL guard
 * allows. Each must be refused with 413 problem+json naming the limit, in every answer format,
 * and DataLab must keep running. Before answers had a byte budget, the first one (issue 17) took
 * the whole process down: PostgreSQL sent a 512 MiB value, and the driver died turning it into a
 * string inside its socket handler.
 */

const MIB = 1024 * 1024;
const FORMATS = ['json', 'csv', 'arrow', 'parquet'];

/** `n` times 32 characters. */
const text = (n: number) => `(SELECT string_agg(md5(h::text), '') FROM generate_series(1, ${n}) h)`;

const CORPUS: [string, string][] = [
  ['one 2 MiB value', `SELECT ${text(65_536)} AS huge`],
  ['many medium values', `SELECT ${text(1000)} AS medium FROM generate_series(1, 100)`],
  [
    'many rows, all under the row cap',
    'SELECT g, md5(g::text) AS a, md5((-g)::text) AS b FROM generate_series(1, 99999) g',
  ],
  [
    'one very wide row',
    `WITH v AS (SELECT ${text(64)} AS s) SELECT ${Array.from({ length: 1000 }, (_, i) => `s AS c${i}`).join(', ')} FROM v`,
  ],
  ['a huge array', 'SELECT array_agg(g) AS a FROM generate_series(1, 1000000) g'],
  ['a huge JSON document', 'SELECT jsonb_agg(md5(g::text)) AS doc FROM generate_series(1, 100000) g'],
];

describe('hostile SQL: oversized values, rows and answers', () => {
  let stack: Stack;
  let viewer: string;

  beforeAll(async () => {
    stack = await startStack({
      QUERY_MAX_ANSWER_BYTES: String(MIB),
      // The query of issue 17 takes PostgreSQL a while to build on a busy machine.
      QUERY_TIMEOUT_MS: '240000',
      UPSTREAM_TIMEOUT_MS: '280000',
    });
    viewer = (await stack.signedIn('viewer')).token;
  }, 180_000);
  afterAll(() => stack?.close());

  const ask = (sql: string, format = 'json') =>
    fetch(`${stack.url}/api/v1/data/query?format=${format}`, {
      method: 'POST',
      headers: bearer(viewer, true),
      body: JSON.stringify({ sql }),
    });

  /** Ready again (or the process died, and the test says so with what it printed). */
  async function stillServing(): Promise<void> {
    for (;;) {
      stack.assertAlive();
      const ready = await fetch(`${stack.url}/health/ready`).catch(() => undefined);
      if (ready?.status === 200) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('refuses the doubling recursive query of issue 17 (a 512 MiB value) and keeps running', async () => {
    const sql =
      'WITH RECURSIVE t(s,n) AS (SELECT md5(0::text),0 UNION ALL SELECT s||s,n+1 FROM t WHERE n<24) SELECT s FROM t WHERE n=24';
    const response = await ask(sql).catch((error: unknown) => error);
    await stillServing();
    expect(response).toBeInstanceOf(Response);
    const problem = await expectProblem(response as Response, 413);
    expect(problem.detail).toMatch(/\((QUERY_MAX_ANSWER_BYTES|QUERY_TEMP_FILE_BYTES)\)/);
  }, 300_000);

  it.each(CORPUS)('refuses %s in every format with 413 naming QUERY_MAX_ANSWER_BYTES', async (_what, sql) => {
    for (const format of FORMATS) {
      const problem = await expectProblem(await ask(sql, format), 413);
      expect(problem.detail).toMatch(/larger than the 1 MiB .*\(QUERY_MAX_ANSWER_BYTES\)/);
      expect(problem).toMatchObject({ limit: 'QUERY_MAX_ANSWER_BYTES', limit_bytes: MIB });
    }
    stack.assertAlive();
  });

  it('counts the answer as encoded too: text that grows when escaped is refused as JSON, sent as CSV', async () => {
    // 300 KiB of control characters on the wire become 1.8 MiB of \u0001 escapes in JSON.
    const sql = `SELECT string_agg(E'\\x01', '') AS escaped FROM generate_series(1, 300000)`;
    const problem = await expectProblem(await ask(sql, 'json'), 413);
    expect(problem.detail).toMatch(/\(QUERY_MAX_ANSWER_BYTES\)/);
    const csv = await ask(sql, 'csv');
    expect(csv.status).toBe(200);
    expect((await csv.arrayBuffer()).byteLength).toBeGreaterThan(300_000);
  });

  it('still answers an ordinary query afterwards', async () => {
    const response = await ask('SELECT 40 + 2 AS answer');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ rows: [[42]], truncated: false });
    await stillServing();
  });
});
