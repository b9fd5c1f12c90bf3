import type { Pool } from '@datalab/platform';

export interface ExportRow {
  id: string;
  job_id: string;
  owner_id: string;
  content_type: string;
  filename: string;
  bytes: Buffer;
}

export type ExportSummary = Omit<ExportRow, 'bytes'> & { size: number };

export function createExportsRepository(pool: Pool) {
  return {
    async findByJob(jobId: string): Promise<ExportSummary | undefined> {
      const result = await pool.query<ExportSummary>(
        `SELECT id, job_id, owner_id, content_type, filename, octet_length(bytes) AS size
         FROM viz.render_exports WHERE job_id = $1`,
        [jobId],
      );
      return result.rows[0];
    },

    async findById(id: string): Promise<ExportRow | undefined> {
      const result = await pool.query<ExportRow>('SELECT * FROM viz.render_exports WHERE id = $1', [id]);
      return result.rows[0];
    },

    /** Keeps the first export of a job: a job that ran twice gets the same one back. */
    async insert(row: Omit<ExportRow, 'id'>): Promise<ExportSummary> {
      await pool.query(
        `INSERT INTO viz.render_exports (job_id, owner_id, content_type, filename, bytes)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job_id) DO NOTHING`,
        [row.job_id, row.owner_id, row.content_type, row.filename, row.bytes],
      );
      return (await this.findByJob(row.job_id))!;
    },
  };
}

export type ExportsRepository = ReturnType<typeof createExportsRepository>;
