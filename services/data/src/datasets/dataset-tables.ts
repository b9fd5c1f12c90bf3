import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type { Pool, PoolClient } from '@datalab/platform';
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

/** A COPY … FROM STDIN stream: write rows in COPY text format, then end it. */
export function copyInto(client: PoolClient, tableName: string, columns: DatasetColumn[]): Writable {
  const names = columns.map((column) => quoteIdent(column.name)).join(', ');
  return client.query(copyFrom(`COPY ${table(tableName)} (${names}) FROM STDIN`));
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
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}
