import { selectPage, type Page, type Pool, type Visibility } from '@datalab/platform';

/** The columns charts and dashboards share; each adds one JSON column, its body (`spec`, `layout`). */
export interface OwnedSummaryRow {
  id: string;
  owner_id: string;
  visibility: Visibility;
  title: string;
  description: string;
  created_at: Date;
  updated_at: Date;
}

export type OwnedRow<K extends string, Body> = OwnedSummaryRow & Record<K, Body>;

export interface NewOwned<Body> {
  ownerId: string;
  visibility: Visibility;
  title: string;
  description: string;
  body: Body;
}

export interface OwnedChanges<Body> {
  title?: string | undefined;
  description?: string | undefined;
  visibility?: Visibility | undefined;
  body?: Body | undefined;
}

/** Which rows a list covers; unset members do not narrow it. */
export interface OwnedFilter {
  /** Only rows this user owns. */
  ownerId?: string | undefined;
  /** Only rows this user may read: their own and the shared ones. */
  readerId?: string | undefined;
}

const SUMMARY_COLUMNS = 'id, owner_id, visibility, title, description, created_at, updated_at';
const FILTER = `($1::uuid IS NULL OR owner_id = $1) AND ($2::uuid IS NULL OR owner_id = $2 OR visibility = 'shared')`;

/**
 * The SQL of a table of owned, titled resources with one JSON body column. `table` and `body`
 * are the caller's constants, never input.
 */
export function createOwnedTable<K extends string, Body>(pool: Pool, table: string, body: K) {
  type Row = OwnedRow<K, Body>;
  const columns = `${SUMMARY_COLUMNS}, ${body}`;
  return {
    async insert(item: NewOwned<Body>): Promise<Row> {
      const result = await pool.query<Row>(
        `INSERT INTO ${table} (owner_id, visibility, title, description, ${body})
         VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING ${columns}`,
        [item.ownerId, item.visibility, item.title, item.description, JSON.stringify(item.body)],
      );
      return result.rows[0]!;
    },

    async findById(id: string): Promise<Row | undefined> {
      const result = await pool.query<Row>(`SELECT ${columns} FROM ${table} WHERE id = $1`, [id]);
      return result.rows[0];
    },

    async list(filter: OwnedFilter, limit: number, offset: number): Promise<Page<OwnedSummaryRow>> {
      return selectPage<OwnedSummaryRow>(
        pool,
        {
          columns: SUMMARY_COLUMNS,
          from: table,
          where: FILTER,
          orderBy: 'created_at DESC, id',
          params: [filter.ownerId ?? null, filter.readerId ?? null],
        },
        limit,
        offset,
      );
    },

    /** `undefined` when the row is gone. */
    async update(id: string, changes: OwnedChanges<Body>): Promise<Row | undefined> {
      const result = await pool.query<Row>(
        `UPDATE ${table} SET
           title = COALESCE($2, title),
           description = COALESCE($3, description),
           visibility = COALESCE($4, visibility),
           ${body} = COALESCE($5::jsonb, ${body}),
           updated_at = now()
         WHERE id = $1 RETURNING ${columns}`,
        [
          id,
          changes.title ?? null,
          changes.description ?? null,
          changes.visibility ?? null,
          changes.body === undefined ? null : JSON.stringify(changes.body),
        ],
      );
      return result.rows[0];
    },

    /** False when the row was already gone. */
    async delete(id: string): Promise<boolean> {
      const result = await pool.query(`DELETE FROM ${table} WHERE id = $1`, [id]);
      return (result.rowCount ?? 0) > 0;
    },
  };
}
