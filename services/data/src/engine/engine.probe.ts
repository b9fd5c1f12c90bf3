/**
 * A micro-benchmark, not a test: six typical BI queries on vega-datasets'
 * 3,000,000 flights through the engine (guard, views, conversion) against
 * plain DuckDB on the same Parquet file in the same process, and the
 * flights file written as zstd Parquet both ways. Run it alone:
 *   npx tsx services/data/src/engine/engine.probe.ts [rounds]
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { FLIGHTS_FILE, testConfig } from './engine.test-fixtures.ts';
import { createEngine } from './engine.ts';
import { readAll } from './run-statement.ts';

const QUERIES: Record<string, string> = {
  'top-10 group-by (count, avg)':
    'SELECT origin, count(*) AS n, avg(delay) AS mean FROM flights GROUP BY origin ORDER BY n DESC LIMIT 10',
  'monthly time buckets':
    "SELECT date_trunc('month', date) AS month, count(*), avg(delay) FROM flights GROUP BY 1 ORDER BY 1",
  'count distinct per group':
    'SELECT origin, count(DISTINCT destination) AS d FROM flights GROUP BY origin ORDER BY d DESC',
  'median per group': 'SELECT origin, median(delay) AS m FROM flights GROUP BY origin ORDER BY origin',
  'filtered group-by':
    "SELECT destination, count(*), avg(distance) FROM flights WHERE delay > 60 AND origin IN ('ORD', 'ATL', 'DFW') GROUP BY 1 ORDER BY 2 DESC",
  'two-key group-by (hour x weekday)':
    'SELECT hour(date) AS h, dayofweek(date) AS d, count(*), avg(delay) FROM flights GROUP BY 1, 2 ORDER BY 1, 2',
};

const rounds = Number(process.argv[2] ?? 7);
const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function time(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

const root = await mkdtemp(path.join(tmpdir(), 'datalab-probe-'));
const storageDir = path.join(root, 'datasets');
const file = path.join(storageDir, 'ds_flights', 'v1', 'part-0.parquet');
await mkdir(path.dirname(file), { recursive: true });
await copyFile(FLIGHTS_FILE, file);
const config = testConfig({
  DATA_ENGINE_MEMORY_MB: '2048',
  DATA_ENGINE_SLOTS: '1',
  DATA_ENGINE_THREADS: '2',
});
const engine = await createEngine({
  config,
  storageDir,
  uploadDir: path.join(root, 'uploads'),
  tempDir: path.join(root, 'tmp'),
});
const datasets = {
  flights: { files: [file], columns: ['date', 'delay', 'distance', 'origin', 'destination'] },
};

const plain = await DuckDBInstance.create(':memory:', { threads: '2' });
const plainConnection = await plain.connect();
await plainConnection.run(`CREATE VIEW flights AS SELECT * FROM read_parquet('${file}')`);

const ratios: number[] = [];
console.log(`query | engine ms | DuckDB ms | ratio (median of ${rounds})`);
for (const [name, sql] of Object.entries(QUERIES)) {
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let round = 0; round < rounds + 1; round++) {
    const a = await time(async () =>
      readAll(await engine.query({ sql, datasets, limits: { maxRows: 100_000, timeoutMs: 600_000 } })),
    );
    const b = await time(async () => (await plainConnection.runAndReadAll(sql)).getRowsJS());
    // The first round warms both sides (file cache, instance, Parquet footer).
    if (round > 0) {
      ours.push(a);
      theirs.push(b);
    }
  }
  const ratio = median(ours) / median(theirs);
  ratios.push(ratio);
  console.log(`${name} | ${median(ours).toFixed(1)} | ${median(theirs).toFixed(1)} | ${ratio.toFixed(2)}`);
}
const geomean = Math.exp(ratios.reduce((sum, ratio) => sum + Math.log(ratio), 0) / ratios.length);
console.log(`geometric mean ratio ${geomean.toFixed(2)}, worst ${Math.max(...ratios).toFixed(2)}`);

await mkdir(path.join(root, 'uploads'), { recursive: true });
const upload = path.join(root, 'uploads', 'flights.parquet');
await copyFile(FLIGHTS_FILE, upload);
const ingest = await time(() =>
  engine.writer.fromFile({
    input: upload,
    outDir: path.join(storageDir, 'ds_copy', 'v1'),
    reader: { format: 'parquet' },
  }),
);
const plainOut = path.join(root, 'plain.parquet');
const direct = await time(() =>
  plainConnection.run(
    `COPY (SELECT * FROM read_parquet('${upload}')) TO '${plainOut}' (FORMAT parquet, COMPRESSION zstd)`,
  ),
);
console.log(
  `flights-3m read and written as zstd Parquet: engine ${ingest.toFixed(0)} ms, DuckDB ${direct.toFixed(0)} ms`,
);

plainConnection.closeSync();
plain.closeSync();
await engine.close();
await rm(root, { recursive: true, force: true });
