import path from 'node:path';
import type { Dataset } from '../datasets/datasets.types.ts';
import type { DataConfig } from '../datasets/upload-options.ts';
import { createEngine, type Engine } from '../engine/engine.ts';
import type { DatasetSources } from '../engine/instance-pool.ts';
import { createDatasetStorage } from '../storage/configured-storage.ts';
import type { DatasetStorage } from '../storage/dataset-storage.ts';

/** What a query needs to read datasets: their views' sources, held until released. */
export interface OpenedSources {
  sources: DatasetSources;
  release(): void;
}

/** The engine and the storage of one process, and the bridge from catalog entries to the engine's views. */
export interface DatasetFiles {
  engine: Engine;
  storage: DatasetStorage;
  /** Where files to ingest wait: the engine's writer reads input files from under it only. */
  uploadDir: string;
  /** Each dataset's current version, by the name SQL uses; local copies are held until `release`. */
  open(datasets: readonly Dataset[]): Promise<OpenedSources>;
  close(): Promise<void>;
}

export async function openDatasetFiles(config: DataConfig, dataDir: string): Promise<DatasetFiles> {
  const storage = createDatasetStorage(config, dataDir);
  const uploadDir = path.resolve(dataDir, 'uploads');
  const engine = await createEngine({
    config,
    storageDir: storage.root,
    uploadDir,
    tempDir: path.resolve(dataDir, 'duckdb-tmp'),
  });
  return {
    engine,
    storage,
    uploadDir,
    async open(datasets) {
      const settled = await Promise.allSettled(datasets.map((dataset) => storage.open(dataset.files)));
      const opened = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      const failed = settled.find((result) => result.status === 'rejected');
      if (failed) {
        opened.forEach((files) => files.release());
        throw failed.reason;
      }
      const sources: Record<string, DatasetSources[string]> = {};
      datasets.forEach((dataset, index) => {
        sources[dataset.name] = {
          files: opened[index]!.paths,
          columns: dataset.columns.map((column) => column.name),
        };
      });
      return { sources, release: () => opened.forEach((files) => files.release()) };
    },
    close: () => engine.close(),
  };
}
