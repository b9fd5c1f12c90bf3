import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type { Pool, PoolClient } from '@datalab/platform';
import type { CopyFormat } from '../ingest/index.ts';
import { ROW_ID_COLUMN, SQL_TYPE, quoteIdent, type DatasetColumn } from './datasets.types.ts';

/** SQL for the tables that hold dataset rows: one table per dataset, in schema `datasets`. */

export function newTableName(): string {
  return `t_${randomBytes(12).toString('hex')}`;
}

const table = (tableName: string): string => `datasets.${quoteIdent(tableName)}`;

/** The row id comes first; it orders rows as they arrived and keys stable paging. */
export async function createDatasetTable(
  client: PoolClient,
  tableName: string,
  columns: DatasetColumn[],
): Promise<void> {
  const definitions = columns.map((column) => `${quoteIdent(column.name)} ${SQL_TYPE[column.type]}`);
  await client.query(
    `CREATE TABLE ${table(tableName)} (${quoteIdent(ROW_ID_COLUMN)} bigint GENERATED ALWAYS AS IDENTITY, ${definitions.join(', ')})`,
  );
  // User SQL runs as datalab_reader, which may read dataset tables and nothing else.
  await client.query(`GRANT SELECT ON ${table(tableName)} TO datalab_reader`);
}

/** Indexes are built once the rows are in: faster than maintaining them row by row during COPY. */
export async function indexDatasetTable(client: PoolClient, tableName: string): Promise<void> {
  await client.query(`ALTER TABLE ${table(tableName)} ADD PRIMARY KEY (${quoteIdent(ROW_ID_COLUMN)})`);
}

const literal = (char: string): string => `'${char.replace(/'/g, "''")}'`;

/**
 * A COPY … FROM STDIN stream: write rows in COPY text format (the default), or CSV records with
 * the given delimiter and quote, then end it. In CSV an empty field is null, quoted or not.
 */
export function copyInto(
  client: PoolClient,
  tableName: string,
  columns: DatasetColumn[],
  format: CopyFormat = { format: 'text' },
): Writable {
  const names = columns.map((column) => quoteIdent(column.name)).join(', ');
  const options =
    format.format === 'csv'
      ? ` (FORMAT csv, DELIMITER ${literal(format.delimiter)}, QUOTE ${literal(format.quote)}, ESCAPE ${literal(format.quote)}, FORCE_NULL (${names}))`
      : '';
  return client.query(copyFrom(`COPY ${table(tableName)} (${names}) FROM STDIN${options}`));
}

const rowIdSequence = (tableName: string): string =>
  `pg_get_serial_sequence('${table(tableName).replace(/'/g, "''")}', '${ROW_ID_COLUMN}')`;

async function rowIdCache(client: PoolClient, tableName: string, cache: number): Promise<void> {
  const result = await client.query<{ sql: string }>(
    `SELECT format('ALTER SEQUENCE %s CACHE ${cache}', ${rowIdSequence(tableName)}) AS sql`,
  );
  await client.query(result.rows[0]!.sql);
}

/**
 * Row ids handed out 65,536 at a time while a COPY fills the table: one sequence access per row
 * costs PostgreSQL more than a tenth of the whole load. Only the writer holding the dataset (or
 * the new table) inserts, so nobody else draws from the sequence meanwhile.
 */
export async function rowIdsInBlocks(client: PoolClient, tableName: string): Promise<void> {
  await rowIdCache(client, tableName, 65_536);
}

/**
 * Back to one id at a time, and this session forgets the ids it drew but did not use (setval
 * keeps the sequence at the last id used): a pooled connection keeping them could later insert
 * ids lower than rows another connection added meanwhile, and ids must follow arrival.
 */
export async function rowIdsOneByOne(client: PoolClient, tableName: string, drew: boolean): Promise<void> {
  const sequence = rowIdSequence(tableName);
  if (drew) await client.query(`SELECT setval(${sequence}, currval(${sequence}))`);
  await rowIdCache(client, tableName, 1);
  await client.query('DISCARD SEQUENCES');
}

export async function tableBytes(client: PoolClient, tableName: string): Promise<number> {
  const result = await client.query<{ bytes: string }>(
    'SELECT pg_total_relation_size($1::regclass) AS bytes',
    [`datasets.${quoteIdent(tableName)}`],
  );
  return Number(result.rows[0]?.bytes ?? 0);
}

export async function dropDatasetTable(client: PoolClient, tableName: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${table(tableName)}`);
}

/**
 * Runs `work` in one transaction: everything it did is committed together or
 * not at all (a failed upload leaves no table and no metadata). A connection
 * left in an unknown state (a COPY cut off) is destroyed, not reused.
 */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // A failed write may leave this session holding row ids drawn in advance (rowIdsInBlocks).
    await client.query('ROLLBACK; DISCARD SEQUENCES').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}
