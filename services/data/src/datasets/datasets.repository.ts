import { selectPage, type Pool, type PoolClient, type Visibility } from '@datalab/platform';
import type { Dataset, DatasetColumn } from './datasets.types.ts';

interface DatasetRow {
  id: string;
  name: string;
  description: string;
  owner_id: string;
  visibility: Visibility;
  table_name: string;
  columns: DatasetColumn[];
  files: string[];
  row_count: string;
  bytes: string;
  version: number;
  source_format: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'id, name, description, owner_id, visibility, table_name, columns, files, row_count, bytes, version, source_format, created_at, updated_at';

function toDataset(row: DatasetRow): Dataset {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    ownerId: row.owner_id,
    visibility: row.visibility,
    tableName: row.table_name,
    columns: row.columns,
    files: row.files,
    rowCount: Number(row.row_count),
    bytes: Number(row.bytes),
    version: row.version,
    sourceFormat: row.source_format,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

type Queryable = Pool | PoolClient;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ListFilter {
  /** Only what this user may read (all when undefined: admins). */
  readableBy?: string;
  search?: string;
  ownerId?: string;
  limit: number;
  offset: number;
}

export function createDatasetsRepository(pool: Pool) {
  return {
    /** By id or by name. */
    async find(idOrName: string, db: Queryable = pool): Promise<Dataset | undefined> {
      const column = UUID.test(idOrName) ? 'id' : 'name';
      const result = await db.query<DatasetRow>(`SELECT ${COLUMNS} FROM data.datasets WHERE ${column} = $1`, [
        column === 'name' ? idOrName.toLowerCase() : idOrName,
      ]);
      return result.rows[0] && toDataset(result.rows[0]);
    },

    /** Locks the row for the rest of the transaction: writes to one dataset queue up. */
    async findForUpdate(id: string, db: PoolClient): Promise<Dataset | undefined> {
      const result = await db.query<DatasetRow>(
        `SELECT ${COLUMNS} FROM data.datasets WHERE id = $1 FOR UPDATE`,
        [id],
      );
      return result.rows[0] && toDataset(result.rows[0]);
    },

    /** The dataset a data job made, if it made one. */
    async findByJob(jobId: string, db: Queryable = pool): Promise<Dataset | undefined> {
      const result = await db.query<DatasetRow>(`SELECT ${COLUMNS} FROM data.datasets WHERE job_id = $1`, [
        jobId,
      ]);
      return result.rows[0] && toDataset(result.rows[0]);
    },

    async findByNames(names: readonly string[]): Promise<Dataset[]> {
      const result = await pool.query<DatasetRow>(
        `SELECT ${COLUMNS} FROM data.datasets WHERE name = ANY($1)`,
        [names.map((n) => n.toLowerCase())],
      );
      return result.rows.map(toDataset);
    },

    async list(filter: ListFilter): Promise<{ datasets: Dataset[]; total: number }> {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.readableBy) {
        params.push(filter.readableBy);
        where.push(`(owner_id = $${params.length} OR visibility = 'shared')`);
      }
      if (filter.ownerId) {
        params.push(filter.ownerId);
        where.push(`owner_id = $${params.length}`);
      }
      if (filter.search) {
        params.push(`%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
        where.push(`(name ILIKE $${params.length} OR description ILIKE $${params.length})`);
      }
      const page = await selectPage<DatasetRow>(
        pool,
        {
          columns: COLUMNS,
          from: 'data.datasets',
          where: where.length > 0 ? where.join(' AND ') : 'TRUE',
          orderBy: 'updated_at DESC, id',
          params,
        },
        filter.limit,
        filter.offset,
      );
      return { datasets: page.rows.map(toDataset), total: page.total };
    },

    /**
     * `id` when the dataset's files were written before its entry (they are stored under it);
     * `jobId` when a data job made it (the job's idempotency key).
     */
    async insert(
      db: PoolClient,
      dataset: Pick<
        Dataset,
        'name' | 'description' | 'ownerId' | 'visibility' | 'tableName' | 'columns' | 'sourceFormat'
      > & { id?: string; jobId?: string },
    ): Promise<Dataset> {
      const result = await db.query<DatasetRow>(
        `INSERT INTO data.datasets (id, name, description, owner_id, visibility, table_name, columns, source_format, job_id)
         VALUES (COALESCE($8::uuid, gen_random_uuid()), $1, $2, $3, $4, $5, $6, $7, $9) RETURNING ${COLUMNS}`,
        [
          dataset.name,
          dataset.description,
          dataset.ownerId,
          dataset.visibility,
          dataset.tableName,
          JSON.stringify(dataset.columns),
          dataset.sourceFormat,
          dataset.id ?? null,
          dataset.jobId ?? null,
        ],
      );
      return toDataset(result.rows[0]!);
    },

    /** After a write: new counts and the next version, in the same transaction as the write. */
    async recordWrite(
      db: PoolClient,
      id: string,
      write: {
        rowCount: number;
        bytes: number;
        mode: 'create' | 'append' | 'replace';
        rowsWritten: number;
        rowsRejected: number;
        by: string;
      },
    ): Promise<Dataset> {
      const result = await db.query<DatasetRow>(
        `UPDATE data.datasets SET row_count = $2, bytes = $3,
           version = CASE WHEN $4 = 'create' THEN version ELSE version + 1 END, updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, write.rowCount, write.bytes, write.mode],
      );
      const dataset = toDataset(result.rows[0]!);
      await db.query(
        `INSERT INTO data.dataset_versions (dataset_id, version, mode, rows_written, rows_rejected, created_by)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [id, dataset.version, write.mode, write.rowsWritten, write.rowsRejected, write.by],
      );
      return dataset;
    },

    async update(
      id: string,
      changes: { name?: string; description?: string; visibility?: Visibility },
    ): Promise<Dataset | undefined> {
      const result = await pool.query<DatasetRow>(
        `UPDATE data.datasets SET name = COALESCE($4, name), description = COALESCE($2, description), visibility = COALESCE($3, visibility), updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, changes.description ?? null, changes.visibility ?? null, changes.name ?? null],
      );
      return result.rows[0] && toDataset(result.rows[0]);
    },

    /** A replace: the dataset now reads from a new table with (possibly) new columns. */
    async swapTable(
      db: PoolClient,
      id: string,
      next: { tableName: string; columns: DatasetColumn[]; sourceFormat: string },
    ): Promise<void> {
      await db.query(
        'UPDATE data.datasets SET table_name = $2, columns = $3, source_format = $4 WHERE id = $1',
        [id, next.tableName, JSON.stringify(next.columns), next.sourceFormat],
      );
    },

    /**
     * Names the version's Parquet files, in the transaction that records the
     * version; the files they replace are marked dropped, for the sweeper.
     */
    async recordFiles(db: PoolClient, dataset: Pick<Dataset, 'id' | 'version'>, files: readonly string[]) {
      await db.query(
        `INSERT INTO data.dropped_files (key)
         SELECT key FROM data.datasets, jsonb_array_elements_text(files) AS key
         WHERE id = $1 AND NOT key = ANY($2) ON CONFLICT (key) DO NOTHING`,
        [dataset.id, files],
      );
      await db.query('UPDATE data.datasets SET files = $2 WHERE id = $1', [
        dataset.id,
        JSON.stringify(files),
      ]);
      await db.query('UPDATE data.dataset_versions SET files = $3 WHERE dataset_id = $1 AND version = $2', [
        dataset.id,
        dataset.version,
        JSON.stringify(files),
      ]);
    },

    async saveRejects(
      db: PoolClient,
      dataset: Pick<Dataset, 'id' | 'version'>,
      count: number,
      csv: string,
    ): Promise<string> {
      const saved = await db.query<{ id: string }>(
        'INSERT INTO data.rejects (dataset_id, version, rejected, report_csv) VALUES ($1, $2, $3, $4) RETURNING id',
        [dataset.id, dataset.version, count, csv],
      );
      return saved.rows[0]!.id;
    },

    async findRejects(datasetId: string, rejectsId: string): Promise<string | undefined> {
      const result = await pool.query<{ report_csv: string }>(
        'SELECT report_csv FROM data.rejects WHERE id = $1 AND dataset_id = $2',
        [rejectsId, datasetId],
      );
      return result.rows[0]?.report_csv;
    },

    /** Deletes the dataset; its files are marked dropped, for the sweeper. */
    async delete(db: PoolClient, id: string): Promise<void> {
      await db.query(
        `INSERT INTO data.dropped_files (key)
         SELECT jsonb_array_elements_text(files) FROM data.datasets WHERE id = $1 ON CONFLICT (key) DO NOTHING`,
        [id],
      );
      await db.query('DELETE FROM data.datasets WHERE id = $1', [id]);
    },

    async versions(id: string) {
      const result = await pool.query<{
        version: number;
        mode: string;
        rows_written: string;
        rows_rejected: string;
        created_by: string;
        created_at: Date;
      }>(
        'SELECT version, mode, rows_written, rows_rejected, created_by, created_at FROM data.dataset_versions WHERE dataset_id = $1 ORDER BY version DESC',
        [id],
      );
      return result.rows;
    },
  };
}

export type DatasetsRepository = ReturnType<typeof createDatasetsRepository>;
