import { randomUUID } from 'node:crypto';
import {
  AppError,
  assertCanCreate,
  assertCanManage,
  assertCanRead,
  type OwnedResource,
  type Principal,
} from '@datalab/platform';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import type { ModelRow, ModelsRepository, NewVersion, VersionRow } from './models.repository.ts';
import type {
  ListModelsQuery,
  Model,
  ModelList,
  ModelSummary,
  ModelVersion,
  Stage,
  UpdateModelBody,
} from './models.schemas.ts';

const WHAT = 'model';

export function toSummary(row: ModelRow): ModelSummary {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    owner_id: row.owner_id,
    visibility: row.visibility,
    latest_version: row.latest_version,
    production_version: row.production_version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export function toVersion(row: VersionRow): ModelVersion {
  return {
    model_id: row.model_id,
    version: row.version,
    stage: row.stage,
    kind: row.kind,
    algorithm: row.algorithm,
    task: row.task,
    input_schema: row.input_schema,
    output_schema: row.output_schema,
    metrics: row.metrics,
    lineage: row.lineage,
    artifact_bytes: Number(row.artifact_bytes),
    artifact_sha256: row.artifact_sha256,
    created_at: row.created_at.toISOString(),
  };
}

function ownership(row: ModelRow | undefined): OwnedResource | undefined {
  return row && { ownerId: row.owner_id, visibility: row.visibility };
}

/** Where a new version goes: an existing model (by id) or a new one. */
export type VersionTarget =
  { modelId: string } | { name: string; description: string; visibility: 'private' | 'shared' };

export interface ModelsDeps {
  repository: ModelsRepository;
  store: ArtifactStore;
  /** Told after a model's visibility, versions or stages change, so caches of it can be dropped. */
  onChange?: (modelId: string) => void;
}

export function createModelsService({ repository, store, onChange }: ModelsDeps) {
  async function readable(principal: Principal, id: string): Promise<ModelRow> {
    const row = await repository.findModel(id);
    assertCanRead(principal, ownership(row), WHAT);
    return row!;
  }

  async function manageable(principal: Principal, id: string): Promise<ModelRow> {
    const row = await repository.findModel(id);
    assertCanManage(principal, ownership(row), WHAT);
    return row!;
  }

  async function readableVersion(
    principal: Principal,
    id: string,
    version: number | undefined,
  ): Promise<VersionRow> {
    const found = await repository.resolve(id, version);
    assertCanRead(principal, found && { ownerId: found.owner_id, visibility: found.visibility }, WHAT);
    if (!found?.version)
      throw new AppError(
        'not_found',
        version === undefined ? 'The model has no versions' : `Version ${version} not found`,
      );
    return found.version;
  }

  return {
    readable,
    readableVersion,

    /** Checks the caller may add a version there, before any expensive work. */
    async assertCanPublish(principal: Principal, target: VersionTarget): Promise<void> {
      if ('modelId' in target) await manageable(principal, target.modelId);
      else assertCanCreate(principal, WHAT);
    },

    /** Stores the artifact and records the version; the artifact is removed again if the row cannot be written. */
    async publish(
      principal: Principal,
      target: VersionTarget,
      version: Omit<NewVersion, 'artifact'>,
      bytes: Uint8Array,
    ): Promise<ModelVersion> {
      if ('modelId' in target) await manageable(principal, target.modelId);
      else assertCanCreate(principal, WHAT);
      const modelId = 'modelId' in target ? target.modelId : randomUUID();
      const artifact = await store.put(modelId, bytes);
      try {
        const model =
          'modelId' in target ? { id: modelId } : { id: modelId, ownerId: principal.userId, ...target };
        const added = toVersion(await repository.addVersion(model, { ...version, artifact }));
        onChange?.(modelId);
        return added;
      } catch (error) {
        await store.remove(artifact.key);
        throw error;
      }
    },

    async list(principal: Principal, query: ListModelsQuery): Promise<ModelList> {
      const filter = {
        ownerId: query.owner === 'me' ? principal.userId : undefined,
        readerId: principal.role === 'admin' ? undefined : principal.userId,
      };
      const { rows, total } = await repository.list(filter, query.limit, query.offset);
      return { models: rows.map(toSummary), total };
    },

    async get(principal: Principal, id: string): Promise<Model> {
      const row = await readable(principal, id);
      return { ...toSummary(row), versions: (await repository.versions(id)).map(toVersion) };
    },

    async versions(principal: Principal, id: string): Promise<ModelVersion[]> {
      await readable(principal, id);
      return (await repository.versions(id)).map(toVersion);
    },

    async version(principal: Principal, id: string, version: number): Promise<ModelVersion> {
      return toVersion(await readableVersion(principal, id, version));
    },

    async update(principal: Principal, id: string, changes: UpdateModelBody): Promise<Model> {
      await manageable(principal, id);
      if (!(await repository.updateModel(id, changes))) throw new AppError('not_found', `${WHAT} not found`);
      onChange?.(id);
      return this.get(principal, id);
    },

    async setStage(principal: Principal, id: string, version: number, stage: Stage): Promise<ModelVersion> {
      await manageable(principal, id);
      const row = await repository.setStage(id, version, stage);
      if (!row) throw new AppError('not_found', `Version ${version} not found`);
      onChange?.(id);
      return toVersion(row);
    },

    async artifact(
      principal: Principal,
      id: string,
      version: number,
    ): Promise<{ bytes: Buffer; filename: string; type: string }> {
      const row = await readableVersion(principal, id, version);
      const bytes = await store.get(row.artifact_key);
      return row.kind === 'onnx'
        ? { bytes, filename: `model-${id}-v${version}.onnx`, type: 'application/octet-stream' }
        : { bytes, filename: `model-${id}-v${version}.json`, type: 'application/json' };
    },

    async delete(principal: Principal, id: string): Promise<void> {
      await manageable(principal, id);
      if (!(await repository.deleteModel(id))) throw new AppError('not_found', `${WHAT} not found`);
      onChange?.(id);
      await store.removeModel(id);
    },
  };
}

export type ModelsService = ReturnType<typeof createModelsService>;
