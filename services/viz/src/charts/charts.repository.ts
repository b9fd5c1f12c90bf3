import type { Pool, Visibility } from '@datalab/platform';
import type { ChartSpec } from './charts.spec.ts';

export interface ChartRow {
  id: string;
  owner_id: string;
  visibility: Visibility;
  title: string;
  description: string;
  spec: ChartSpec;
  created_at: Date;
  updated_at: Date;
}

export type ChartSummaryRow = Omit<ChartRow, 'spec'>;

export interface NewChart {
  ownerId: string;
  visibility: Visibility;
  title: string;
  description: string;
  spec: ChartSpec;
}

export interface ChartChanges {
  title?: string | undefined;
  description?: string | undefined;
  visibility?: Visibility | undefined;
  spec?: ChartSpec | undefined;
}

/** Which charts a list covers; unset members do not narrow it. */
export interface ChartFilter {
  /** Only charts this user owns. */
  ownerId?: string | undefined;
  /** Only charts this user may read: their own and the shared ones. */
  readerId?: string | undefined;
}

const SUMMARY_COLUMNS = 'id, owner_id, visibility, title, description, created_at, updated_at';
const COLUMNS = `${SUMMARY_COLUMNS}, spec`;
const FILTER = `($1::uuid IS NULL OR owner_id = $1) AND ($2::uuid IS NULL OR owner_id = $2 OR visibility = 'shared')`;

export function createChartsRepository(pool: Pool) {
  return {
    async insert(chart: NewChart): Promise<ChartRow> {
      const result = await pool.query<ChartRow>(
        `INSERT INTO viz.charts (owner_id, visibility, title, description, spec)
         VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING ${COLUMNS}`,
        [chart.ownerId, chart.visibility, chart.title, chart.description, JSON.stringify(chart.spec)],
      );
      return result.rows[0]!;
    },

    async findById(id: string): Promise<ChartRow | undefined> {
      const result = await pool.query<ChartRow>(`SELECT ${COLUMNS} FROM viz.charts WHERE id = $1`, [id]);
      return result.rows[0];
    },

    async list(
      filter: ChartFilter,
      limit: number,
      offset: number,
    ): Promise<{ rows: ChartSummaryRow[]; total: number }> {
      const params = [filter.ownerId ?? null, filter.readerId ?? null];
      const [rows, count] = await Promise.all([
        pool.query<ChartSummaryRow>(
          `SELECT ${SUMMARY_COLUMNS} FROM viz.charts WHERE ${FILTER}
           ORDER BY created_at DESC, id LIMIT $3 OFFSET $4`,
          [...params, limit, offset],
        ),
        pool.query<{ n: string }>(`SELECT count(*) AS n FROM viz.charts WHERE ${FILTER}`, params),
      ]);
      return { rows: rows.rows, total: Number(count.rows[0]?.n ?? 0) };
    },

    /** `undefined` when the chart is gone. */
    async update(id: string, changes: ChartChanges): Promise<ChartRow | undefined> {
      const result = await pool.query<ChartRow>(
        `UPDATE viz.charts SET
           title = COALESCE($2, title),
           description = COALESCE($3, description),
           visibility = COALESCE($4, visibility),
           spec = COALESCE($5::jsonb, spec),
           updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [
          id,
          changes.title ?? null,
          changes.description ?? null,
          changes.visibility ?? null,
          changes.spec ? JSON.stringify(changes.spec) : null,
        ],
      );
      return result.rows[0];
    },

    /** False when the chart was already gone. */
    async delete(id: string): Promise<boolean> {
      const result = await pool.query('DELETE FROM viz.charts WHERE id = $1', [id]);
      return (result.rowCount ?? 0) > 0;
    },
  };
}

export type ChartsRepository = ReturnType<typeof createChartsRepository>;
