import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  createServer,
  createServiceMetrics,
  migrate,
  type App,
  type Database,
  type Pool,
  type PoolClient,
  type Principal,
  type ServiceMetrics,
  type Visibility,
} from '@datalab/platform';
import { silentLogger, uniqueName } from '../../../../test/helpers.ts';
import { createDatasetsRepository } from '../datasets/datasets.repository.ts';
import { createDatasetTable, inTransaction, indexDatasetTable } from '../datasets/dataset-tables.ts';
import { SQL_TYPE, quoteIdent, type ColumnType } from '../datasets/datasets.types.ts';
import { browseRoutes } from './browse.routes.ts';
import { createProfileMetrics } from './profile.metrics.ts';
import { createProfileRepository } from './profile.repository.ts';
import { createProfileService } from './profile.service.ts';
import { createRowsRepository } from './rows.repository.ts';
import { createRowsService } from './rows.service.ts';

/** Datasets made the way ingestion makes them, and a browse server to read them through. */

export interface FixtureColumn {
  name: string;
  type: ColumnType;
}

/** Rows to write: literal values in column order, or one SQL expression per column over `i` (1..count). */
export type FixtureRows = { values: unknown[][] } | { count: number; expressions: string[] };

export interface DatasetFixture {
  id: string;
  name: string;
  tableName: string;
  columns: FixtureColumn[];
}

const table = (tableName: string) => `datasets.${quoteIdent(tableName)}`;

async function insertRows(
  client: PoolClient,
  { tableName, columns }: Pick<DatasetFixture, 'tableName' | 'columns'>,
  rows: FixtureRows,
): Promise<void> {
  const names = columns.map((column) => quoteIdent(column.name)).join(', ');
  if ('count' in rows) {
    await client.query(
      `INSERT INTO ${table(tableName)} (${names})
       SELECT ${rows.expressions.join(', ')} FROM generate_series(1, $1::int) AS g(i)`,
      [rows.count],
    );
    return;
  }
  for (const row of rows.values) {
    const params = columns.map((column, i) => `$${i + 1}::${SQL_TYPE[column.type]}`);
    await client.query(`INSERT INTO ${table(tableName)} (${names}) VALUES (${params.join(', ')})`, row);
  }
}

export async function createDatasetFixture(
  pool: Pool,
  options: { ownerId: string; visibility?: Visibility; columns: FixtureColumn[]; rows: FixtureRows },
): Promise<DatasetFixture> {
  const tableName = `t_${randomBytes(12).toString('hex')}`;
  const name = uniqueName('browse');
  let id = '';
  await inTransaction(pool, async (client) => {
    const columns = options.columns.map((column) => ({
      ...column,
      original_name: column.name.toUpperCase(),
    }));
    await createDatasetTable(client, tableName, columns);
    await insertRows(client, { tableName, columns: options.columns }, options.rows);
    await indexDatasetTable(client, tableName);
    const created = await client.query<{ id: string }>(
      `INSERT INTO data.datasets (name, owner_id, visibility, table_name, columns, row_count, version, source_format)
       VALUES ($1, $2, $3, $4, $5, (SELECT count(*) FROM ${table(tableName)}), 1, 'csv') RETURNING id`,
      [name, options.ownerId, options.visibility ?? 'private', tableName, JSON.stringify(columns)],
    );
    id = created.rows[0]!.id;
  });
  return { id, name, tableName, columns: options.columns };
}

/** An append: more rows and the next version, in one transaction. */
export async function appendRows(pool: Pool, fixture: DatasetFixture, rows: FixtureRows): Promise<void> {
  await inTransaction(pool, async (client) => {
    await insertRows(client, fixture, rows);
    await client.query(
      `UPDATE data.datasets SET version = version + 1, row_count = (SELECT count(*) FROM ${table(fixture.tableName)}),
         updated_at = now() WHERE id = $1`,
      [fixture.id],
    );
  });
}

export async function dropDatasetFixture(pool: Pool, fixture: DatasetFixture): Promise<void> {
  await pool.query('DELETE FROM data.datasets WHERE id = $1', [fixture.id]);
  await pool.query(`DROP TABLE IF EXISTS ${table(fixture.tableName)}`);
}

export async function migrateDataSchema(pool: Pool): Promise<void> {
  const directory = fileURLToPath(new URL('../../migrations', import.meta.url));
  await migrate(pool, { schema: 'data', directory, logger: silentLogger });
}

const PRINCIPAL_HEADER = 'x-test-principal';

const injectGet = (app: App, url: string, headers: Record<string, string>) =>
  app.inject({ method: 'GET', url, headers });
export type InjectResponse = Awaited<ReturnType<typeof injectGet>>;

export interface BrowseTestApp {
  app: App;
  metrics: ServiceMetrics;
  /** GET as this caller; the principal travels in a header the test server trusts. */
  get: (principal: Principal, url: string) => Promise<InjectResponse>;
}

/**
 * The browse routes on a real server from createServer, wired as the service
 * wires them. A test hook sets the principal, standing in for the internal-token check.
 */
export async function browseTestApp(db: Database): Promise<BrowseTestApp> {
  const metrics = createServiceMetrics('data-service');
  const app = await createServer({
    service: 'data-service',
    version: 'test',
    instanceId: uniqueName('browse'),
    description: 'browse test',
    logger: silentLogger,
    metrics,
    dependencies: [],
    bodyLimit: 1024 * 1024,
  });
  app.addHook('onRequest', async (request) => {
    const header = request.headers[PRINCIPAL_HEADER];
    request.principal = typeof header === 'string' ? (JSON.parse(header) as Principal) : undefined;
  });
  const datasets = createDatasetsRepository(db.pool);
  browseRoutes(app, {
    rows: createRowsService(datasets, createRowsRepository(db.readPool, 64 * 1024 * 1024)),
    profiles: createProfileService(
      datasets,
      createProfileRepository(db.pool, db.readPool),
      createProfileMetrics(metrics),
    ),
  });
  await app.ready();
  return {
    app,
    metrics,
    get: (principal, url) => injectGet(app, url, { [PRINCIPAL_HEADER]: JSON.stringify(principal) }),
  };
}
