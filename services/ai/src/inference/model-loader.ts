import type { Logger } from '@datalab/platform';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import type { VersionRow } from '../models/models.repository.ts';
import { parseTabularArtifact, tabularInputSchema, tabularModel } from '../training/tabular-model.ts';
import type { LoadedModel } from './loaded-model.ts';
import { loadOnnxModel } from './onnx-model.ts';
import type { OnnxLimits } from './onnx-static-check.ts';

/** A built-in model's trees and arrays take several times their JSON size once parsed. */
const TABULAR_MEMORY_FACTOR = 3;

export interface ModelLoaderOptions {
  store: ArtifactStore;
  executionProvider: 'cpu' | 'cuda';
  limits: OnnxLimits;
  logger: Logger;
}

/** Reads a version's artifact and makes it runnable, whichever kind it is. */
export function createModelLoader(options: ModelLoaderOptions) {
  return async (version: VersionRow): Promise<LoadedModel> => {
    const bytes = await options.store.get(version.artifact_key);
    if (version.kind === 'onnx') {
      return loadOnnxModel(bytes, {
        executionProvider: options.executionProvider,
        limits: options.limits,
        onFallback: (reason) =>
          options.logger.warn(
            { model: version.model_id, reason },
            'CUDA provider unavailable; serving on CPU',
          ),
      });
    }
    const artifact = parseTabularArtifact(bytes);
    const model = tabularModel(artifact);
    return {
      inputSchema: tabularInputSchema(artifact),
      maxRowsPerRun: Infinity,
      batchable: true,
      bytes: bytes.byteLength * TABULAR_MEMORY_FACTOR,
      provider: 'js',
      run: async (rows) => model.predict(rows),
      release: async () => undefined,
    };
  };
}

export type ModelLoader = ReturnType<typeof createModelLoader>;
