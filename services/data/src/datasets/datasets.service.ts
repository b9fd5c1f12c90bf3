import type { Readable } from 'node:stream';
import {
  AppError,
  assertCanCreate,
  assertCanManage,
  type Pool,
  type PoolClient,
  type Principal,
} from '@datalab/platform';
import type { IngestOptions, IngestResult } from '../ingest/index.ts';
import { createCatalog } from './datasets.catalog.ts';
import type { DatasetsRepository } from './datasets.repository.ts';
import type { DatasetView, UploadOptions } from './datasets.schemas.ts';
import type { Dataset } from './datasets.types.ts';
import {
  createDatasetTable,
  dropDatasetTable,
  inTransaction,
  indexDatasetTable,
  newTableName,
  tableBytes,
} from './dataset-tables.ts';
import { ingestOptions, nameFor } from './upload-options.ts';
import { copyUpload } from './upload-copy.ts';
import type { DataConfig } from './upload-options.ts';
import type { IngestMetrics } from './datasets.metrics.ts';
import type { DatasetFiles } from '../versions/dataset-files.ts';
import { writeVersionFromTable } from '../versions/table-version.ts';

export interface UploadedFile {
  stream: Readable;
  filename: string;
}

export function toView(dataset: Dataset): DatasetView {
  return {
    id: dataset.id,
    name: dataset.name,
    description: dataset.description,
    owner_id: dataset.ownerId,
    visibility: dataset.visibility,
    columns: dataset.columns,
    row_count: dataset.rowCount,
    bytes: dataset.bytes,
    version: dataset.version,
    source_format: dataset.sourceFormat,
    created_at: dataset.createdAt.toISOString(),
    updated_at: dataset.updatedAt.toISOString(),
  };
}

export function createDatasetsService(
  pool: Pool,
  repository: DatasetsRepository,
  config: DataConfig,
  metrics: IngestMetrics,
  files: DatasetFiles,
  /** Called after every committed change to an existing dataset (catalog-cache.ts). */
  changed: () => Promise<void> = async () => undefined,
) {
  const catalog = createCatalog(repository);

  function outcome(dataset: Dataset, result: IngestResult, rejectsId: string | null) {
    return {
      dataset: toView(dataset),
      rows_written: result.rowsWritten,
      rejects: {
        count: result.rowsRejected,
        first: result.rejects,
        download: rejectsId ? `/api/v1/data/datasets/${dataset.id}/rejects/${rejectsId}` : null,
      },
    };
  }

  async function finishWrite(
    client: PoolClient,
    dataset: Dataset,
    result: IngestResult,
    mode: 'create' | 'append' | 'replace',
    principal: Principal,
  ) {
    const rowCount = (mode === 'append' ? dataset.rowCount : 0) + result.rowsWritten;
    const written = await repository.recordWrite(client, dataset.id, {
      rowCount,
      bytes: await tableBytes(client, dataset.tableName),
      mode,
      rowsWritten: result.rowsWritten,
      rowsRejected: result.rowsRejected,
      by: principal.userId,
    });
    await writeVersionFromTable(client, written, files, repository);
    metrics.rowsIngested(result.format, result.rowsWritten);
    const rejectsId =
      result.rowsRejected > 0
        ? await repository.saveRejects(client, written, result.rowsRejected, result.rejectsCsv)
        : null;
    return outcome(written, result, rejectsId);
  }

  return {
    catalog,

    async create(principal: Principal, options: UploadOptions, file: UploadedFile) {
      assertCanCreate(principal, 'dataset');
      const name = nameFor(options.name, file.filename);
      const ingestWith: IngestOptions = ingestOptions(options, file.filename, config);
      const stopTimer = metrics.startIngest();
      try {
        return await inTransaction(pool, async (client) => {
          if (await repository.find(name, client))
            throw new AppError('conflict', `A dataset named "${name}" exists already`);
          const tableName = newTableName();
          const { result, columns } = await copyUpload(client, file.stream, ingestWith, async (found) => {
            await createDatasetTable(client, tableName, found);
            return tableName;
          });
          await indexDatasetTable(client, tableName);
          const dataset = await repository.insert(client, {
            name,
            description: options.description ?? '',
            ownerId: principal.userId,
            visibility: options.visibility ?? 'private',
            tableName,
            columns,
            sourceFormat: result.format,
          });
          return finishWrite(client, dataset, result, 'create', principal);
        });
      } catch (error) {
        throw (error as { code?: string }).code === '23505'
          ? new AppError('conflict', `A dataset named "${name}" exists already`)
          : error;
      } finally {
        stopTimer();
      }
    },

    /** A new version: rows appended to the table, or the whole table replaced. Writes to one dataset queue up. */
    async addVersion(principal: Principal, idOrName: string, options: UploadOptions, file: UploadedFile) {
      const mode = options.mode ?? 'append';
      const known = await catalog.readable(principal, idOrName);
      assertCanManage(principal, known, 'dataset');
      const stopTimer = metrics.startIngest();
      try {
        const written = await inTransaction(pool, async (client) => {
          const dataset = (await repository.findForUpdate(known.id, client))!;
          if (mode === 'append') {
            const types = Object.fromEntries(dataset.columns.map((c) => [c.original_name, c.type]));
            const ingestWith = {
              ...ingestOptions({ ...options, types: JSON.stringify(types) }, file.filename, config),
              requiredColumns: dataset.columns.map((c) => c.original_name),
            };
            const { result } = await copyUpload(
              client,
              file.stream,
              ingestWith,
              async () => dataset.tableName,
            );
            return finishWrite(client, dataset, result, 'append', principal);
          }
          const tableName = newTableName();
          const ingestWith = ingestOptions(options, file.filename, config);
          const { result, columns } = await copyUpload(client, file.stream, ingestWith, async (found) => {
            await createDatasetTable(client, tableName, found);
            return tableName;
          });
          await indexDatasetTable(client, tableName);
          await repository.swapTable(client, dataset.id, { tableName, columns, sourceFormat: result.format });
          await dropDatasetTable(client, dataset.tableName);
          return finishWrite(client, { ...dataset, tableName, columns }, result, 'replace', principal);
        });
        await changed();
        return written;
      } finally {
        stopTimer();
      }
    },

    async get(principal: Principal, idOrName: string): Promise<DatasetView> {
      return toView(await catalog.readable(principal, idOrName));
    },

    async list(
      principal: Principal,
      query: { search?: string; owner?: 'me'; limit: number; offset: number },
    ) {
      const { datasets, total } = await repository.list({
        ...(principal.role === 'admin' ? {} : { readableBy: principal.userId }),
        ...(query.owner === 'me' ? { ownerId: principal.userId } : {}),
        ...(query.search ? { search: query.search } : {}),
        limit: query.limit,
        offset: query.offset,
      });
      return { datasets: datasets.map(toView), total };
    },

    async update(
      principal: Principal,
      idOrName: string,
      changes: { name?: string; description?: string; visibility?: 'private' | 'shared' },
    ) {
      const dataset = await catalog.readable(principal, idOrName);
      assertCanManage(principal, dataset, 'dataset');
      const name = changes.name === undefined ? undefined : nameFor(changes.name, '');
      const updated = await repository.update(dataset.id, { ...changes, name }).catch((error: unknown) => {
        throw (error as { code?: string }).code === '23505'
          ? new AppError('conflict', `A dataset named "${name}" exists already`)
          : error;
      });
      // Deleted between the check above and the update: as gone as if it had never been.
      if (!updated) throw new AppError('not_found', `Dataset "${idOrName}" not found`);
      await changed();
      return toView(updated);
    },

    async delete(principal: Principal, idOrName: string): Promise<void> {
      const dataset = await catalog.readable(principal, idOrName);
      assertCanManage(principal, dataset, 'dataset');
      await inTransaction(pool, async (client) => {
        const locked = await repository.findForUpdate(dataset.id, client);
        if (!locked) return;
        await dropDatasetTable(client, locked.tableName);
        await repository.delete(client, locked.id);
      });
      await changed();
    },

    async versions(principal: Principal, idOrName: string) {
      const dataset = await catalog.readable(principal, idOrName);
      const rows = await repository.versions(dataset.id);
      return {
        versions: rows.map((row) => ({
          version: row.version,
          mode: row.mode,
          rows_written: Number(row.rows_written),
          rows_rejected: Number(row.rows_rejected),
          created_by: row.created_by,
          created_at: row.created_at.toISOString(),
        })),
      };
    },

    async rejects(principal: Principal, idOrName: string, rejectsId: string): Promise<string> {
      const dataset = await catalog.readable(principal, idOrName);
      const report = await repository.findRejects(dataset.id, rejectsId);
      if (report === undefined) throw new AppError('not_found', 'Rejects report not found');
      return report;
    },
  };
}

export type DatasetsService = ReturnType<typeof createDatasetsService>;
