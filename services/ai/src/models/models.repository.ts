import { selectPage, type Page, type Pool, type Visibility } from '@datalab/platform';
import type { IoSchema, Stage } from './models.schemas.ts';

export interface ModelRow {
  id: string;
  owner_id: string;
  visibility: Visibility;
  name: string;
  description: string;
  latest_version: number | null;
  production_version: number | null;
  created_at: Date;
  updated_at: Date;
}

export interface VersionRow {
  model_id: string;
  version: number;
  stage: Stage;
  kind: 'onnx' | 'tabular';
  algorithm: string;
  task: string;
  input_schema: IoSchema;
  output_schema: IoSchema;
  metrics: Record<string, unknown>;
  lineage: Record<string, unknown>;
  artifact_key: string;
  artifact_bytes: string;
  artifact_sha256: string;
  created_at: Date;
}

export interface NewModel {
  id: string;
  ownerId: string;
  visibility: Visibility;
  name: string;
  description: string;
}

export interface NewVersion {
  kind: VersionRow['kind'];
  algorithm: string;
  task: string;
  inputSchema: IoSchema;
  outputSchema: IoSchema;
  metrics: Record<string, unknown>;
  lineage: Record<string, unknown>;
  artifact: { key: string; bytes: number; sha256: string };
}

const MODEL_COLUMNS = `m.id, m.owner_id, m.visibility, m.name, m.description, m.created_at, m.updated_at,
  (SELECT max(version) FROM ai.model_versions v WHERE v.model_id = m.id) AS latest_version,
  (SELECT version FROM ai.model_versions v WHERE v.model_id = m.id AND v.stage = 'production') AS production_version`;
const VERSION_COLUMNS = `model_id, version, stage, kind, algorithm, task, input_schema, output_schema, metrics,
  lineage, artifact_key, artifact_bytes, artifact_sha256, created_at`;
const FILTER = `($1::uuid IS NULL OR m.owner_id = $1) AND ($2::uuid IS NULL OR m.owner_id = $2 OR m.visibility = 'shared')`;

export function createModelsRepository(pool: Pool) {
  return {
    /**
     * Adds a version (and the model when `model` is new) in one transaction; the
     * model row is locked so concurrent versions get distinct numbers.
     */
    async addVersion(model: NewModel | { id: string }, version: NewVersion): Promise<VersionRow> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        if ('ownerId' in model) {
          await client.query(
            `INSERT INTO ai.models (id, owner_id, visibility, name, description) VALUES ($1, $2, $3, $4, $5)`,
            [model.id, model.ownerId, model.visibility, model.name, model.description],
          );
        }
        await client.query('SELECT 1 FROM ai.models WHERE id = $1 FOR UPDATE', [model.id]);
        const result = await client.query<VersionRow>(
          `INSERT INTO ai.model_versions (model_id, version, kind, algorithm, task, input_schema, output_schema,
             metrics, lineage, artifact_key, artifact_bytes, artifact_sha256)
           SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb, $9, $10, $11
             FROM ai.model_versions WHERE model_id = $1
           RETURNING ${VERSION_COLUMNS}`,
          [
            model.id,
            version.kind,
            version.algorithm,
            version.task,
            JSON.stringify(version.inputSchema),
            JSON.stringify(version.outputSchema),
            JSON.stringify(version.metrics),
            JSON.stringify(version.lineage),
            version.artifact.key,
            version.artifact.bytes,
            version.artifact.sha256,
          ],
        );
        await client.query('UPDATE ai.models SET updated_at = now() WHERE id = $1', [model.id]);
        await client.query('COMMIT');
        return result.rows[0]!;
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    },

    async findModel(id: string): Promise<ModelRow | undefined> {
      const result = await pool.query<ModelRow>(`SELECT ${MODEL_COLUMNS} FROM ai.models m WHERE m.id = $1`, [
        id,
      ]);
      return result.rows[0];
    },

    async versions(modelId: string): Promise<VersionRow[]> {
      const result = await pool.query<VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM ai.model_versions WHERE model_id = $1 ORDER BY version DESC`,
        [modelId],
      );
      return result.rows;
    },

    /**
     * In one round trip (the predict path): the model's owner and visibility, and
     * the version asked for, or the served one. `undefined` when the model does not exist.
     */
    async resolve(
      modelId: string,
      version: number | undefined,
    ): Promise<{ owner_id: string; visibility: Visibility; version: VersionRow | undefined } | undefined> {
      const result = await pool.query<{ owner_id: string; visibility: Visibility; v: VersionRow | null }>(
        `SELECT m.owner_id, m.visibility, to_jsonb(v) AS v
           FROM ai.models m
           LEFT JOIN LATERAL (
             SELECT ${VERSION_COLUMNS} FROM ai.model_versions
              WHERE model_id = m.id AND ($2::int IS NULL OR version = $2)
              ORDER BY (stage = 'production') DESC, (stage <> 'archived') DESC, version DESC LIMIT 1
           ) v ON true
          WHERE m.id = $1`,
        [modelId, version ?? null],
      );
      const row = result.rows[0];
      if (!row) return undefined;
      const found = row.v ? { ...row.v, created_at: new Date(row.v.created_at) } : undefined;
      return { owner_id: row.owner_id, visibility: row.visibility, version: found };
    },

    /** The version a training job already wrote, so a job run twice records one version. */
    async findByJob(jobId: string): Promise<VersionRow | undefined> {
      const result = await pool.query<VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM ai.model_versions WHERE lineage->>'job_id' = $1 LIMIT 1`,
        [jobId],
      );
      return result.rows[0];
    },

    async list(
      filter: { ownerId?: string | undefined; readerId?: string | undefined },
      limit: number,
      offset: number,
    ): Promise<Page<ModelRow>> {
      return selectPage<ModelRow>(
        pool,
        {
          columns: MODEL_COLUMNS,
          from: 'ai.models m',
          where: FILTER,
          orderBy: 'm.created_at DESC, m.id',
          params: [filter.ownerId ?? null, filter.readerId ?? null],
        },
        limit,
        offset,
      );
    },

    async updateModel(
      id: string,
      changes: {
        name?: string | undefined;
        description?: string | undefined;
        visibility?: Visibility | undefined;
      },
    ): Promise<boolean> {
      const result = await pool.query(
        `UPDATE ai.models SET name = COALESCE($2, name), description = COALESCE($3, description),
           visibility = COALESCE($4, visibility), updated_at = now() WHERE id = $1`,
        [id, changes.name ?? null, changes.description ?? null, changes.visibility ?? null],
      );
      return (result.rowCount ?? 0) > 0;
    },

    /** Sets a version's stage; promoting to production archives the model's previous production version. */
    async setStage(modelId: string, version: number, stage: Stage): Promise<VersionRow | undefined> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT 1 FROM ai.models WHERE id = $1 FOR UPDATE', [modelId]);
        if (stage === 'production') {
          await client.query(
            `UPDATE ai.model_versions SET stage = 'archived'
             WHERE model_id = $1 AND stage = 'production' AND version <> $2`,
            [modelId, version],
          );
        }
        const result = await client.query<VersionRow>(
          `UPDATE ai.model_versions SET stage = $3 WHERE model_id = $1 AND version = $2 RETURNING ${VERSION_COLUMNS}`,
          [modelId, version, stage],
        );
        await client.query('COMMIT');
        return result.rows[0];
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    },

    async deleteModel(id: string): Promise<boolean> {
      const result = await pool.query('DELETE FROM ai.models WHERE id = $1', [id]);
      return (result.rowCount ?? 0) > 0;
    },
  };
}

export type ModelsRepository = ReturnType<typeof createModelsRepository>;
