import { isAppError } from '@datalab/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFixture, limits as fixtureLimits, type EngineFixture } from './engine.test-fixtures.ts';
import type { QueryResult } from './run-statement.ts';

/**
 * The byte budget holds before any value reaches JavaScript: answers far
 * past it are refused as "too large", naming the budget, and neither the
 * JavaScript heap nor the process's memory grows with the answer.
 */

const MB = 1024 * 1024;
/** Building 600 MB in DuckDB takes a while on a busy two-core machine. */
const SLOW = 600_000;
const limits = { ...fixtureLimits, timeoutMs: SLOW };
let fx: EngineFixture;

beforeAll(async () => {
  fx = await engineFixture({ DATA_ENGINE_MAX_ANSWER_BYTES: String(64 * MB) });
});
afterAll(async () => {
  await fx.close();
});

/** Reads every batch and drops it, as a streaming answer would; returns the error, if any, and the peak RSS seen. */
async function drain(
  run: () => Promise<QueryResult>,
): Promise<{ error: unknown; peakRss: number; heapGrowth: number }> {
  const heapBefore = process.memoryUsage().heapUsed;
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 20);
  let error: unknown;
  try {
    const result = await run();
    for await (const batch of result.batches()) expect(batch.length).toBeGreaterThan(0);
  } catch (caught) {
    error = caught;
  } finally {
    clearInterval(sampler);
  }
  return { error, peakRss, heapGrowth: process.memoryUsage().heapUsed - heapBefore };
}

describe('the answer byte budget', () => {
  it(
    'refuses a 600 MB string as too large, naming the budget, without making it a JavaScript string',
    async () => {
      const { error, heapGrowth } = await drain(() =>
        fx.engine.query({ sql: "SELECT repeat('x', 600000000) AS s", datasets: {}, limits }),
      );
      expect(isAppError(error) && error.kind).toBe('too_large');
      expect((error as Error).message).toBe(
        `The answer is larger than the ${64 * MB}-byte answer budget; select fewer rows or columns, or aggregate`,
      );
      expect(isAppError(error) && error.extensions).toEqual({ limit: 'answer_bytes', max_bytes: 64 * MB });
      expect(heapGrowth).toBeLessThan(50 * MB);
      // DuckDB built the string in its own memory; once refused, that memory is given back.
      await expect.poll(() => process.memoryUsage.rss(), { timeout: 10_000 }).toBeLessThan(1024 * MB);
    },
    SLOW,
  );

  it(
    'refuses ten million 100-byte rows as too large while memory stays flat',
    async () => {
      const before = process.memoryUsage.rss();
      const { error, peakRss, heapGrowth } = await drain(() =>
        fx.engine.query({
          sql: "SELECT i, repeat('y', 92) AS pad FROM range(10000000) t(i)",
          datasets: {},
          limits: { ...limits, maxRows: 100_000_000 },
        }),
      );
      expect(isAppError(error) && error.kind).toBe('too_large');
      expect((error as Error).message).toMatch(`larger than the ${64 * MB}-byte answer budget`);
      expect(heapGrowth).toBeLessThan(100 * MB);
      expect(peakRss - before).toBeLessThan(300 * MB);
    },
    SLOW,
  );

  it('counts nested values too: a list of large strings in one row is refused', async () => {
    const { error } = await drain(() =>
      fx.engine.query({
        sql: "SELECT list(repeat('z', 1000000)) AS l FROM range(100)",
        datasets: {},
        limits: { ...limits, maxBytes: 10 * MB },
      }),
    );
    expect(isAppError(error) && error.kind).toBe('too_large');
    expect((error as Error).message).toMatch(`larger than the ${10 * MB}-byte answer budget`);
  });

  it('answers the same query under a budget it fits in', async () => {
    const { error } = await drain(() =>
      fx.engine.query({
        sql: "SELECT list(repeat('z', 1000)) AS l FROM range(100)",
        datasets: {},
        limits: { ...limits, maxBytes: 10 * MB },
      }),
    );
    expect(error).toBeUndefined();
  });
});
