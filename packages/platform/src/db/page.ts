import type { QueryResultRow } from 'pg';
import type { Pool, PoolClient } from './database.ts';

/** One page of a list, and how many rows the whole list has. */
export interface Page<Row> {
  rows: Row[];
  total: number;
}

/** A listing's SQL: every part is the caller's constant text; values go in `params` ($1…). */
export interface PageQuery {
  columns: string;
  from: string;
  /** `TRUE` for every row. */
  where: string;
  orderBy: string;
  params: unknown[];
}

/**
 * The page `limit`/`offset` of `SELECT columns FROM from WHERE where ORDER BY orderBy`, and the
 * count of every row `where` matches; the two statements run side by side.
 */
export async function selectPage<Row extends QueryResultRow>(
  pool: Pool | PoolClient,
  query: PageQuery,
  limit: number,
  offset: number,
): Promise<Page<Row>> {
  const next = query.params.length + 1;
  const [rows, count] = await Promise.all([
    pool.query<Row>(
      `SELECT ${query.columns} FROM ${query.from} WHERE ${query.where}
       ORDER BY ${query.orderBy} LIMIT $${next} OFFSET $${next + 1}`,
      [...query.params, limit, offset],
    ),
    pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${query.from} WHERE ${query.where}`, query.params),
  ]);
  return { rows: rows.rows, total: Number(count.rows[0]?.n ?? 0) };
}
