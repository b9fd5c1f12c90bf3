import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@datalab/platform';
import { DuckDBInstance } from '@duckdb/node-api';
import { engineConfigSchema, type EngineConfig } from './engine.config.ts';
import { createEngine, type Engine } from './engine.ts';
import type { DatasetSources } from './instance-pool.ts';

/** A storage directory with two small datasets, and an engine over it. */
export interface EngineFixture {
  root: string;
  storageDir: string;
  engine: Engine;
  /** `sales` (3 rows) and `secrets` (1 row), each one Parquet file in its own version folder. */
  datasets: DatasetSources;
  salesFile: string;
  secretsFile: string;
  close(): Promise<void>;
}

/** Writes a Parquet file from a SELECT with an unrestricted DuckDB: test data only. */
export async function writeParquet(file: string, select: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(
      `COPY (${select}) TO '${file.replace(/'/g, "''")}' (FORMAT parquet, COMPRESSION zstd)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export const testConfig = (overrides: Partial<Record<string, string>> = {}): EngineConfig =>
  loadConfig(engineConfigSchema, {
    DATA_ENGINE_MEMORY_MB: '512',
    DATA_ENGINE_SLOTS: '2',
    DATA_ENGINE_THREADS: '1',
    ...overrides,
  });

export async function engineFixture(overrides: Partial<Record<string, string>> = {}): Promise<EngineFixture> {
  const root = await mkdtemp(path.join(tmpdir(), 'datalab-engine-'));
  const storageDir = path.join(root, 'datasets');
  const salesFile = path.join(storageDir, 'ds_sales', 'v1', 'part-0.parquet');
  const secretsFile = path.join(storageDir, 'ds_secrets', 'v1', 'part-0.parquet');
  await writeParquet(
    salesFile,
    "SELECT * FROM (VALUES (1, 'north', 10.5), (2, 'south', 20.25), (3, 'north', 30.0)) t(id, region, amount)",
  );
  await writeParquet(secretsFile, "SELECT 'the-secret' AS secret");
  const engine = await createEngine({
    config: testConfig(overrides),
    storageDir,
    uploadDir: path.join(root, 'uploads'),
    tempDir: path.join(root, 'tmp'),
  });
  return {
    root,
    storageDir,
    engine,
    salesFile,
    secretsFile,
    datasets: { sales: { files: [salesFile], columns: ['id', 'region', 'amount'] } },
    close: async () => {
      await engine.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** vega-datasets' 3,000,000 flights (a timestamp, two integers, two short codes), a dev dependency. */
export const FLIGHTS_FILE = path.resolve(
  import.meta.dirname,
  '../../../../node_modules/vega-datasets/data/flights-3m.parquet',
);

export const limits = { maxRows: 1000, timeoutMs: 60_000 };
