import {
  AppError,
  loadConfig,
  PermanentJobError,
  type Adapters,
  type JobTypeDeps,
  type KeySet,
  type Logger,
  type Pool,
} from '@datalab/platform';
import { dataConfigSchema } from '../config.ts';
import { createCatalog, type Catalog } from '../datasets/datasets.catalog.ts';
import { createDatasetsRepository, type DatasetsRepository } from '../datasets/datasets.repository.ts';
import type { DataConfig } from '../datasets/upload-options.ts';
import { openDatasetFiles, type DatasetFiles } from '../versions/dataset-files.ts';

/** What every data job handler works with: the process's own pools, the data-service's config and catalog. */
export interface DataJobContext {
  config: DataConfig;
  /** The primary: output datasets are written here. */
  pool: Pool;
  repository: DatasetsRepository;
  catalog: Catalog;
  /**
   * The process's DuckDB engine and dataset storage, opened on first use and kept for the
   * process's life (a worker's engine takes the same DATA_ENGINE_* budgets as a data-service's).
   */
  files: () => Promise<DatasetFiles>;
  adapters: Adapters;
  internalKeys: KeySet;
  logger: Logger;
}

export function createDataJobContext(deps: JobTypeDeps): DataJobContext {
  const repository = createDatasetsRepository(deps.db.pool);
  const config = loadConfig(dataConfigSchema, deps.env);
  let files: Promise<DatasetFiles> | undefined;
  return {
    config,
    pool: deps.db.pool,
    repository,
    catalog: createCatalog(repository),
    files: () => {
      files ??= openDatasetFiles(config, deps.common.dataDir);
      // A failed open is tried again by the next job rather than remembered.
      files.catch(() => (files = undefined));
      return files;
    },
    adapters: deps.adapters,
    internalKeys: deps.internalKeys,
    logger: deps.logger.child({ jobs: 'data' }),
  };
}

/** The caller's mistakes (bad SQL, a dataset they may not read) cannot be fixed by retrying. */
const PERMANENT_KINDS = new Set(['invalid', 'not_found', 'forbidden', 'conflict', 'too_large']);

/** Runs a handler's work, turning refusals meant for a caller into failures that are not retried. */
export async function asJobError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError && PERMANENT_KINDS.has(error.kind)) {
      const fields = (error.errors ?? []).map((e) => `${e.field}: ${e.message}`);
      const detail = fields.length > 0 ? ` (${fields.join('; ')})` : '';
      throw new PermanentJobError(`${error.message}${detail}`);
    }
    throw error;
  }
}
