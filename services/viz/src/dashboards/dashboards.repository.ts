import type { Pool, Visibility } from '@datalab/platform';
import type { Layout } from './dashboards.schemas.ts';

export interface DashboardRow {
  id: string;
  owner_id: string;
  visibility: Visibility;
  title: string;
  description: string;
  layout: Layout;
  created_at: Date;
  updated_at: Date;
}

export type DashboardSummaryRow = Omit<DashboardRow, 'layout'>;

export interface NewDashboard {
  ownerId: string;
  visibility: Visibility;
  title: string;
  description: string;
  layout: Layout;
}

export interface DashboardChanges {
  title?: string | undefined;
  description?: string | undefined;
  visibility?: Visibility | undefined;
  layout?: Layout | undefined;
}

const SUMMARY_COLUMNS = 'id, owner_id, visibility, title, description, created_at, updated_at';
const COLUMNS = `${SUMMARY_COLUMNS}, layout`;
const FILTER = `($1::uuid IS NULL OR owner_id = $1) AND ($2::uuid IS NULL OR owner_id = $2 OR visibility = 'shared')`;

export function createDashboardsRepository(pool: Pool) {
  return {
    async insert(dashboard: NewDashboard): Promise<DashboardRow> {
      const result = await pool.query<DashboardRow>(
        `INSERT INTO viz.dashboards (owner_id, visibility, title, description, layout)
         VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING ${COLUMNS}`,
        [
          dashboard.ownerId,
          dashboard.visibility,
          dashboard.title,
          dashboard.description,
          JSON.stringify(dashboard.layout),
        ],
      );
      return result.rows[0]!;
    },

    async findById(id: string): Promise<DashboardRow | undefined> {
      const result = await pool.query<DashboardRow>(`SELECT ${COLUMNS} FROM viz.dashboards WHERE id = $1`, [
        id,
      ]);
      return result.rows[0];
    },

    /** `filter.ownerId`: only theirs; `filter.readerId`: only what they may read (own or shared). */
    async list(
      filter: { ownerId?: string | undefined; readerId?: string | undefined },
      limit: number,
      offset: number,
    ): Promise<{ rows: DashboardSummaryRow[]; total: number }> {
      const params = [filter.ownerId ?? null, filter.readerId ?? null];
      const [rows, count] = await Promise.all([
        pool.query<DashboardSummaryRow>(
          `SELECT ${SUMMARY_COLUMNS} FROM viz.dashboards WHERE ${FILTER}
           ORDER BY created_at DESC, id LIMIT $3 OFFSET $4`,
          [...params, limit, offset],
        ),
        pool.query<{ n: string }>(`SELECT count(*) AS n FROM viz.dashboards WHERE ${FILTER}`, params),
      ]);
      return { rows: rows.rows, total: Number(count.rows[0]?.n ?? 0) };
    },

    /** `undefined` when the dashboard is gone. */
    async update(id: string, changes: DashboardChanges): Promise<DashboardRow | undefined> {
      const result = await pool.query<DashboardRow>(
        `UPDATE viz.dashboards SET
           title = COALESCE($2, title),
           description = COALESCE($3, description),
           visibility = COALESCE($4, visibility),
           layout = COALESCE($5::jsonb, layout),
           updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [
          id,
          changes.title ?? null,
          changes.description ?? null,
          changes.visibility ?? null,
          changes.layout ? JSON.stringify(changes.layout) : null,
        ],
      );
      return result.rows[0];
    },

    async delete(id: string): Promise<boolean> {
      const result = await pool.query('DELETE FROM viz.dashboards WHERE id = $1', [id]);
      return (result.rowCount ?? 0) > 0;
    },
  };
}

export type DashboardsRepository = ReturnType<typeof createDashboardsRepository>;
