import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { isAppError } from '@datalab/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFixture, limits, type EngineFixture } from './engine.test-fixtures.ts';
import { readAll } from './run-statement.ts';

let fx: EngineFixture;

beforeAll(async () => {
  fx = await engineFixture({ DATA_ENGINE_SLOTS: '2', DATA_ENGINE_QUEUE_LENGTH: '1' });
});
afterAll(async () => {
  await fx.close();
});

const LONG = 'SELECT count(*) FROM range(100000000000) a';

async function failure(
  promise: Promise<unknown>,
): Promise<{ kind: string; message: string; extensions: unknown }> {
  try {
    await readAll((await promise) as Parameters<typeof readAll>[0]);
  } catch (error) {
    if (!isAppError(error)) throw error;
    return { kind: error.kind, message: error.message, extensions: error.extensions };
  }
  throw new Error('expected the query to fail');
}

describe('the data engine', () => {
  it('answers a query over the datasets it names, with column names and types', async () => {
    const result = await readAll(
      await fx.engine.query({
        sql: 'SELECT region, count(*) AS n, sum(amount) AS total FROM sales GROUP BY region ORDER BY region',
        datasets: fx.datasets,
        limits,
      }),
    );
    expect(result.columns).toEqual([
      { name: 'region', type: 'text', duckdbType: 'VARCHAR' },
      { name: 'n', type: 'integer', duckdbType: 'BIGINT' },
      { name: 'total', type: 'float', duckdbType: 'DECIMAL(38,2)' },
    ]);
    expect(result.rows).toEqual([
      ['north', 2, '40.50'],
      ['south', 1, '20.25'],
    ]);
    expect(result.truncated).toBe(false);
  });

  it('runs with its settings locked: external access off, memory and threads per slot, no extension loading', async () => {
    const settings = [
      'enable_external_access',
      'lock_configuration',
      'autoload_known_extensions',
      'autoinstall_known_extensions',
      'threads',
      'memory_limit',
      'allowed_paths',
    ];
    const sql = `SELECT ${settings.map((name) => `system.main.current_setting('${name}')`).join(', ')}`;
    const { rows } = await readAll(await fx.engine.run({ sql, datasets: fx.datasets, limits }));
    expect(rows[0]).toEqual([false, true, false, false, 1, '256.0 MiB', [fx.salesFile]]);
  });

  it('shows a query only the datasets its SQL names, under the names it uses', async () => {
    const both = { ...fx.datasets, secrets: { files: [fx.secretsFile], columns: ['secret'] } };
    const { rows } = await readAll(
      await fx.engine.run({
        sql: 'SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal',
        datasets: fx.datasets,
        limits,
      }),
    );
    expect(rows).toEqual([['sales']]);
    const { rows: secret } = await readAll(
      await fx.engine.query({ sql: 'SELECT secret FROM SECRETS', datasets: both, limits }),
    );
    expect(secret).toEqual([['the-secret']]);
  });

  it('marks an answer cut at the row cap as truncated, and one exactly at the cap as whole', async () => {
    const cut = await fx.engine.query({
      sql: 'SELECT * FROM range(5000)',
      datasets: {},
      limits: { ...limits, maxRows: 4096 },
    });
    const cutRows = await readAll(cut);
    expect(cutRows.rows).toHaveLength(4096);
    expect(cutRows.truncated).toBe(true);
    const whole = await readAll(
      await fx.engine.query({
        sql: 'SELECT * FROM range(4096)',
        datasets: {},
        limits: { ...limits, maxRows: 4096 },
      }),
    );
    expect(whole.rows).toHaveLength(4096);
    expect(whole.truncated).toBe(false);
  });

  it('reads only the rows it answers from a large result (a 200-row page of a long one)', async () => {
    const started = performance.now();
    const page = await readAll(
      await fx.engine.query({
        sql: 'SELECT * FROM range(1000000000)',
        datasets: {},
        limits: { ...limits, maxRows: 200 },
      }),
    );
    expect(page.rows).toHaveLength(200);
    expect(page.truncated).toBe(true);
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  it('stops a query past its timeout and says so with a 400 naming the limit', async () => {
    const refused = await failure(
      fx.engine.query({ sql: LONG, datasets: {}, limits: { maxRows: 10, timeoutMs: 300 } }),
    );
    expect(refused).toMatchObject({
      kind: 'invalid',
      message: 'The query ran longer than the 0.3 s limit and was stopped',
      extensions: { limit: 'timeout', timeout_ms: 300 },
    });
    expect(fx.engine.stats().active).toBe(0);
  });

  it('stops a query when its caller goes away', async () => {
    const controller = new AbortController();
    const running = fx.engine.query({
      sql: LONG,
      datasets: {},
      limits: { ...limits, signal: controller.signal },
    });
    setTimeout(() => controller.abort(new Error('client went away')), 100);
    await expect(running.then(readAll)).rejects.toThrow('client went away');
    expect(fx.engine.stats().active).toBe(0);
  });

  it('lets the slots run, one more query wait in line, and refuses the next as busy with Retry-After', async () => {
    const controller = new AbortController();
    const slow = () =>
      fx.engine
        .query({ sql: LONG, datasets: {}, limits: { ...limits, signal: controller.signal } })
        .then(readAll)
        .then(
          () => 'answered',
          (error: unknown) => error,
        );
    const first = slow();
    const second = slow();
    await expect.poll(() => fx.engine.stats().active, { timeout: 10_000 }).toBe(2);
    const waiting = slow();
    await expect.poll(() => fx.engine.stats().waiting, { timeout: 10_000 }).toBe(1);
    const busy = await slow();
    expect(isAppError(busy) && busy.kind).toBe('unavailable');
    expect(isAppError(busy) && busy.headers).toEqual({ 'retry-after': '1' });
    controller.abort(new Error('done'));
    const outcomes = await Promise.all([first, second, waiting]);
    expect(outcomes.map((outcome) => (outcome as Error).message)).toEqual(['done', 'done', 'done']);
    await expect.poll(() => fx.engine.stats().active).toBe(0);
  });

  it('names the dataset that is not there, and where', async () => {
    const refused = await failure(
      fx.engine.query({ sql: 'SELECT *\nFROM sales, nowhere', datasets: fx.datasets, limits }),
    );
    expect(refused).toMatchObject({
      kind: 'not_found',
      message: 'Dataset "nowhere" not found',
      extensions: { line: 2, column: 13 },
    });
  });

  it('turns a DuckDB error about the query into a 400 that keeps its line and column', async () => {
    const refused = await failure(
      fx.engine.query({ sql: 'SELECT nope\nFROM sales', datasets: fx.datasets, limits }),
    );
    expect(refused.kind).toBe('invalid');
    expect(refused.message).toMatch(/Referenced column "nope" not found.*\(line 1, column 8\)/);
  });
});

describe('closing the engine', () => {
  it('interrupts running queries, refuses new ones and removes its spill folders', async () => {
    const own = await engineFixture();
    const running = own.engine.query({ sql: LONG, datasets: {}, limits });
    const reading = running.then(readAll);
    await expect.poll(() => own.engine.stats().active).toBe(1);
    // Listen before closing: the query fails while close() is awaited.
    const refused = expect(reading).rejects.toThrow();
    const started = performance.now();
    await own.engine.close();
    await refused;
    expect(performance.now() - started).toBeLessThan(10_000);
    await expect(own.engine.query({ sql: 'SELECT 1', datasets: {}, limits })).rejects.toThrow(
      /shutting down/,
    );
    expect(await readdir(path.join(own.root, 'tmp'))).toEqual([]);
    await own.close();
  });
});
