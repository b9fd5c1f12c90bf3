import { tableFromIPC } from 'apache-arrow';
import { parquetMetadata } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readersThatStall } from '../slow-reader.ts';
import { bearer, expectProblem, startStack, type Stack } from './stack.ts';

/**
 * API4:2023 Unrestricted Resource Consumption — what one query, export or data job may take from
 * everyone else: memory (a byte budget on every answer), PostgreSQL's disk (temp_file_limit), the
 * query pool's connections (answers are spooled before they are sent, so a slow reader holds none),
 * and the row cap, which every client must be able to see.
 */

const MIB = 1024 * 1024;

interface Job {
  id: string;
  state: string;
  error: { message: string } | null;
}

describe('queries and exports cannot exhaust what other users need', () => {
  let stack: Stack;
  let editor: string;
  let other: string;
  /** A shared dataset of about 40 MB as CSV: more than every socket buffer between DataLab and a client. */
  let big: string;
  /** A shared dataset of 1,000 rows of 64 KiB: an export past QUERY_EXPORT_MAX_BYTES. */
  let wide: string;

  const query = (token: string, sql: string, format = 'json') =>
    fetch(`${stack.url}/api/v1/data/query?format=${format}`, {
      method: 'POST',
      headers: bearer(token, true),
      body: JSON.stringify({ sql }),
    });

  async function sqlJob(sql: string, name: string): Promise<Job> {
    const submitted = await fetch(`${stack.url}/api/v1/compute/jobs`, {
      method: 'POST',
      headers: bearer(editor, true),
      body: JSON.stringify({ type: 'sql', params: { sql, name, visibility: 'shared' } }),
    });
    expect(submitted.status).toBe(201);
    const { id } = (await submitted.json()) as Job;
    for (;;) {
      const job = (await (
        await fetch(`${stack.url}/api/v1/compute/jobs/${id}`, { headers: bearer(editor) })
      ).json()) as Job;
      if (['succeeded', 'failed', 'dead', 'cancelled'].includes(job.state)) return job;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  beforeAll(async () => {
    stack = await startStack({
      // Two connections per pool: two readers that never finish would pin them.
      DATABASE_POOL_SIZE: '2',
      // Exports wait for a connection while others are read; a pinned pool still fails in time.
      DATABASE_CONNECT_TIMEOUT_MS: '20000',
      QUERY_MAX_ANSWER_BYTES: String(MIB),
      QUERY_EXPORT_MAX_BYTES: String(48 * MIB),
      QUERY_TEMP_FILE_BYTES: String(8 * MIB),
      QUERY_MAX_ROWS: '1000',
    });
    editor = (await stack.signedIn('editor')).token;
    other = (await stack.signedIn('viewer')).token;
    const suffix = Date.now().toString(36);
    [big, wide] = [`big_${suffix}`, `wide_${suffix}`];
    // One after the other: a sql job reads and writes at once, so two of them on pools of two
    // connections wait on each other until a connect times out on a busy machine.
    const made = [
      await sqlJob(
        'SELECT g, md5(g::text) AS a, md5((-g)::text) AS b FROM generate_series(1, 500000) AS t(g)',
        big,
      ),
      await sqlJob(
        `SELECT g, repeat(md5(g::text), 2048) AS blob FROM generate_series(1, 1000) AS t(g)`,
        wide,
      ),
    ];
    for (const job of made) expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
  }, 240_000);
  afterAll(() => stack?.close());

  it('refuses a sort that would fill PostgreSQL’s disk with 413 naming QUERY_TEMP_FILE_BYTES', async () => {
    const response = await query(other, 'SELECT g FROM generate_series(1,2000000000) g ORDER BY g DESC');
    const problem = await expectProblem(response, 413);
    expect(problem.detail).toMatch(/more than the 8 MiB of temporary disk space .*\(QUERY_TEMP_FILE_BYTES\)/);
    expect(problem).toMatchObject({ limit: 'QUERY_TEMP_FILE_BYTES', limit_bytes: 8 * MIB });
  });

  it('refuses an export past QUERY_EXPORT_MAX_BYTES and a page of rows past QUERY_MAX_ANSWER_BYTES', async () => {
    const exported = await fetch(`${stack.url}/api/v1/data/datasets/${wide}/export?format=csv`, {
      headers: bearer(other),
    });
    expect((await expectProblem(exported, 413)).detail).toMatch(/\(QUERY_EXPORT_MAX_BYTES\)/);
    const page = await fetch(`${stack.url}/api/v1/data/datasets/${wide}/rows?limit=1000`, {
      headers: bearer(other),
    });
    expect((await expectProblem(page, 413)).detail).toMatch(
      /page of rows is larger .*\(QUERY_MAX_ANSWER_BYTES\)/,
    );
    const fewer = await fetch(`${stack.url}/api/v1/data/datasets/${wide}/rows?limit=10`, {
      headers: bearer(other),
    });
    expect(fewer.status).toBe(200);
  });

  // A sql job's rows go from DuckDB straight into its Parquet file and never through JavaScript, so
  // what bounds it is the engine's memory: past its share the job fails and leaves no dataset.
  it('fails a sql job that needs more than its share of the engine’s memory, and makes no dataset', async () => {
    const name = `too_big_${Date.now().toString(36)}`;
    const job = await sqlJob('SELECT list(g) AS l FROM range(100000000) AS t(g)', name);
    expect(job.state).toBe('failed');
    expect(job.error?.message).toMatch(/needs more memory or temporary disk than the server allows/);
    await expectProblem(
      await fetch(`${stack.url}/api/v1/data/datasets/${name}`, { headers: bearer(editor) }),
      404,
    );
    stack.assertAlive();
  });

  it('answers another user’s queries while slow readers hold exports open', async () => {
    // As many downloads as the pool has connections, reading the head and then nothing at all.
    const { heads, close } = await readersThatStall(
      stack.url,
      `/api/v1/data/datasets/${big}/export`,
      { authorization: `Bearer ${editor}` },
      2,
    );
    try {
      expect(heads).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
      for (const sql of [
        `SELECT count(*) AS n FROM ${big}`,
        'SELECT 1 AS one',
        `SELECT max(g) AS top FROM ${wide}`,
      ]) {
        const answer = await query(other, sql);
        expect(answer.status, await answer.clone().text()).toBe(200);
      }
    } finally {
      close();
    }
  }, 180_000);

  describe('a cut answer says so, through the gateway, in a header and in the formats that carry metadata', () => {
    const sql = (format: string) => `SELECT g, '${format}' AS f FROM generate_series(1, 5000) g`;

    it.each(['json', 'csv', 'arrow', 'parquet'])('%s', async (format) => {
      const response = await query(other, sql(format), format);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-datalab-cache')).toBe('miss');
      expect(response.headers.get('x-datalab-truncated')).toBe('true');
      const body = new Uint8Array(await response.arrayBuffer());
      expect(Number(response.headers.get('content-length'))).toBe(body.byteLength);
      if (format === 'json')
        expect(JSON.parse(Buffer.from(body).toString())).toMatchObject({ row_count: 1000, truncated: true });
      if (format === 'csv') expect(Buffer.from(body).toString().trim().split('\r\n')).toHaveLength(1001);
      if (format === 'arrow')
        expect(tableFromIPC(body).schema.metadata.get('datalab.truncated')).toBe('true');
      if (format === 'parquet')
        expect(parquetMetadata(body.buffer).key_value_metadata).toContainEqual({
          key: 'datalab.truncated',
          value: 'true',
        });
      const whole = await query(other, `SELECT g FROM generate_series(1, 10) g`, format);
      expect(whole.headers.get('x-datalab-truncated')).toBe('false');
    });
  });
});
