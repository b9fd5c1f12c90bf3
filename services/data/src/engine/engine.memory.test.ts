import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFixture, FLIGHTS_FILE, type EngineFixture } from './engine.test-fixtures.ts';
import type { DatasetSources } from './instance-pool.ts';
import { readAll } from './run-statement.ts';

/**
 * Eight heavy queries at once over three million rows keep the process
 * within the engine's memory budget plus 200 MB: each slot has its share
 * of DATA_ENGINE_MEMORY_MB and DuckDB spills the rest to disk.
 */

const MB = 1024 * 1024;
const MEMORY_MB = 800;

let fx: EngineFixture;
let flights: DatasetSources;

beforeAll(async () => {
  fx = await engineFixture({
    DATA_ENGINE_MEMORY_MB: String(MEMORY_MB),
    DATA_ENGINE_SLOTS: '8',
    DATA_ENGINE_THREADS: '1',
  });
  const file = path.join(fx.storageDir, 'ds_flights', 'v1', 'part-0.parquet');
  await mkdir(path.dirname(file), { recursive: true });
  await copyFile(FLIGHTS_FILE, file);
  flights = { flights: { files: [file], columns: ['date', 'delay', 'distance', 'origin', 'destination'] } };
}, 120_000);
afterAll(async () => {
  await fx.close();
});

const HEAVY = [
  "SELECT origin, destination, date_trunc('hour', date) AS h, count(*), avg(delay) FROM flights GROUP BY ALL ORDER BY 4 DESC, 1, 2, 3",
  'SELECT count(DISTINCT (date, delay, distance, origin)) FROM flights',
  'SELECT origin, median(delay), quantile_cont(distance, 0.9), count(DISTINCT destination) FROM flights GROUP BY origin ORDER BY origin',
  'SELECT avg(r) FROM (SELECT row_number() OVER (PARTITION BY origin ORDER BY date, delay) AS r FROM flights)',
  'SELECT * FROM flights ORDER BY delay DESC, distance, date, origin, destination LIMIT 20',
  'SELECT a.origin, count(*) FROM flights a JOIN (SELECT DISTINCT origin, destination FROM flights) b ON a.destination = b.origin GROUP BY 1 ORDER BY 2 DESC LIMIT 10',
  'SELECT date, delay, distance, origin, destination, count(*) OVER (PARTITION BY date) FROM flights ORDER BY 6 DESC, 1, 2, 3, 4, 5 LIMIT 10',
  'SELECT delay, distance, count(*) FROM flights GROUP BY ALL ORDER BY 3 DESC, 1, 2 LIMIT 10',
];

describe('engine memory', () => {
  it('keeps RSS under its memory budget plus 200 MB while eight heavy queries run at once', async () => {
    let peak = process.memoryUsage.rss();
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 20);
    try {
      const answers = await Promise.all(
        HEAVY.map(async (sql) =>
          readAll(
            await fx.engine.query({ sql, datasets: flights, limits: { maxRows: 1000, timeoutMs: 600_000 } }),
          ),
        ),
      );
      for (const answer of answers) expect(answer.rows.length).toBeGreaterThan(0);
    } finally {
      clearInterval(sampler);
    }
    expect(peak).toBeLessThan((MEMORY_MB + 200) * MB);
  }, 900_000);
});
