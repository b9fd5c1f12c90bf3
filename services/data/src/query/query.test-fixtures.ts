import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import {
  connectDatabase,
  createMemoryCache,
  createServer,
  createServiceMetrics,
  loadConfig,
  migrate,
  type App,
  type Cache,
  type Database,
  type Pool,
  type Principal,
  type ServiceMetrics,
} from '@datalab/platform';
import { silentLogger, testDatabase, uniqueName } from '../../../../test/helpers.ts';
import { createCatalog } from '../datasets/datasets.catalog.ts';
import { createDatasetsRepository } from '../datasets/datasets.repository.ts';
import { qualifiedTable, quoteIdent, type ColumnType, type Dataset } from '../datasets/datasets.types.ts';
import {
  createDatasetTable,
  inTransaction,
  indexDatasetTable,
  newTableName,
} from '../datasets/dataset-tables.ts';
import type { QueryAnswer } from './answers.ts';
import { queryConfigSchema, type QueryConfig } from './query.config.ts';
import { queryRoutes } from './query.routes.ts';
import { createQueryService, type QueryService } from './query.service.ts';

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

/** A DataLab pool (metered, as every pool DataLab opens) of one connection: proves each query gives it back. */
export function oneConnection(url: string = inject('databaseUrl')): Promise<Database> {
  return connectDatabase({
    url,
    poolSize: 1,
    connectTimeoutMs: 5000,
    applicationName: 'datalab-test-one-connection',
    logger: silentLogger,
  });
}

/** The test database with the data-service's schema (and the datalab_reader role) in place. */
export async function queryTestDatabase(): Promise<Database> {
  const db = await testDatabase();
  await migrate(db.pool, { schema: 'data', directory: MIGRATIONS, logger: silentLogger });
  return db;
}

export interface TestDatasetSpec {
  ownerId: string;
  visibility?: 'private' | 'shared';
  columns: { name: string; type: ColumnType }[];
  rows?: unknown[][];
  name?: string;
}

/**
 * A dataset made the way ingestion makes one — a table in `datasets` with the
 * row id first, SELECT granted to datalab_reader, a metadata row in
 * data.datasets — with rows inserted as parameters.
 */
export async function createTestDataset(pool: Pool, spec: TestDatasetSpec): Promise<Dataset> {
  const name = spec.name ?? uniqueName('ds');
  const tableName = newTableName();
  const table = qualifiedTable({ tableName });
  const columns = spec.columns.map((column) => ({ ...column, original_name: column.name }));
  await inTransaction(pool, async (client) => {
    await createDatasetTable(client, tableName, columns);
    const names = columns.map((column) => quoteIdent(column.name)).join(', ');
    for (const row of spec.rows ?? []) {
      const placeholders = row.map((_, i) => `$${i + 1}`).join(', ');
      await client.query(`INSERT INTO ${table} (${names}) VALUES (${placeholders})`, row);
    }
    await indexDatasetTable(client, tableName);
    await client.query(
      `INSERT INTO data.datasets (name, owner_id, visibility, table_name, columns, row_count, source_format)
       VALUES ($1, $2, $3, $4, $5, $6, 'csv')`,
      [
        name,
        spec.ownerId,
        spec.visibility ?? 'private',
        tableName,
        JSON.stringify(columns),
        spec.rows?.length ?? 0,
      ],
    );
  });
  return (await createDatasetsRepository(pool).find(name))!;
}

/** What an append does to the metadata: the next version. */
export async function bumpVersion(pool: Pool, dataset: Pick<Dataset, 'id'>): Promise<void> {
  await pool.query('UPDATE data.datasets SET version = version + 1 WHERE id = $1', [dataset.id]);
}

export const testQueryConfig: QueryConfig = {
  ...loadConfig(queryConfigSchema, {}),
  queryTimeoutMs: 5000,
  queryMaxRows: 1000,
  queryCacheTtlSeconds: 60,
  queryCacheMaxEntryBytes: 1 << 20,
  queryCatalogCacheMs: 0,
};

/** The query service over the test database, with its own memory cache unless one is given. */
export function queryTestService(
  db: Database,
  options: { config?: Partial<QueryConfig>; readPool?: Pool; cache?: Cache; metrics?: ServiceMetrics } = {},
): QueryService {
  // The test login stands in for the query login (it may set temp_file_limit).
  return createQueryService({
    queryPool: options.readPool ?? db.readPool,
    readPool: options.readPool ?? db.readPool,
    catalog: createCatalog(createDatasetsRepository(db.pool)),
    cache: options.cache ?? createMemoryCache(1 << 22),
    metrics: options.metrics ?? createServiceMetrics('data-service'),
    config: { ...testQueryConfig, ...options.config },
  });
}

/** The query routes on the platform server; the `x-test-caller` header stands in for the internal token. */
export async function queryTestApp(
  db: Database,
  cache: Cache,
  callers: Map<string, Principal>,
  readPool: Pool = db.readPool,
): Promise<App> {
  const metrics = createServiceMetrics('data-service');
  const app = await createServer({
    service: 'data-service',
    version: 'test',
    instanceId: uniqueName('query-routes'),
    description: 'query routes test',
    logger: silentLogger,
    metrics,
    dependencies: [],
    bodyLimit: 1 << 20,
  });
  app.addHook('onRequest', async (request) => {
    request.principal = callers.get(String(request.headers['x-test-caller']));
  });
  queryRoutes(app, queryTestService(db, { cache, metrics, readPool }));
  await app.ready();
  return app;
}

/** Reads an answer to its end (which gives its connection back to the pool). */
export async function answerBytes(answer: QueryAnswer | Promise<QueryAnswer>): Promise<Buffer> {
  const { body } = await answer;
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Runs a query to its end and returns the answer, e.g. to look at whether it was cached. */
export async function settled(answer: Promise<QueryAnswer>): Promise<QueryAnswer> {
  const done = await answer;
  await answerBytes(done);
  return done;
}

export function cacheHits(metricsText: string): number {
  const line = metricsText
    .split('\n')
    .find((text) => text.startsWith('data_query_cache_total') && text.includes('result="hit"'));
  return Number(line?.split(' ').at(-1) ?? 0);
}

export const arrayBufferOf = (bytes: Buffer): ArrayBuffer =>
  bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
