import { AppError, type Principal } from '@datalab/platform';
import { createBatcher, type BatchingOptions } from './batcher.ts';
import { validateRows } from './input-validation.ts';
import type { Prediction } from './loaded-model.ts';
import type { InferenceMetrics } from './inference.metrics.ts';
import type { ModelCache } from './model-cache.ts';
import type { ModelLoader } from './model-loader.ts';
import type { VersionLookup } from './version-lookup.ts';

export interface InferenceDeps {
  lookup: VersionLookup;
  cache: ModelCache;
  load: ModelLoader;
  metrics: InferenceMetrics;
  batching: BatchingOptions;
  maxRows: number;
}

export interface PredictAnswer {
  model_id: string;
  version: number;
  predictions: Prediction[];
}

export function createInferenceService(deps: InferenceDeps) {
  return {
    /** Rows checked against the version's input schema, then queued to share a run with concurrent requests. */
    async predict(
      principal: Principal,
      modelId: string,
      rows: unknown[],
      version?: number,
    ): Promise<PredictAnswer> {
      if (rows.length > deps.maxRows) {
        throw new AppError(
          'too_large',
          `At most ${deps.maxRows} rows per request; send more as a predict-batch job`,
          {
            errors: [{ field: '/body/rows', message: `has ${rows.length} rows, more than ${deps.maxRows}` }],
          },
        );
      }
      const row = await deps.lookup.resolve(principal, modelId, version);
      const valid = validateRows(row.input_schema, rows);
      const stop = deps.metrics.requestDuration.startTimer({ kind: row.kind });
      const key = `${row.model_id}:${row.version}`;
      const entry = await deps.cache.get(key, async () => {
        const endLoad = deps.metrics.loadDuration.startTimer({ kind: row.kind });
        const model = await deps.load(row);
        endLoad();
        return { model, batcher: createBatcher(model, deps.batching, deps.metrics) };
      });
      const predictions = await entry.batcher.submit(valid);
      stop();
      return { model_id: row.model_id, version: row.version, predictions };
    },
  };
}

export type InferenceService = ReturnType<typeof createInferenceService>;
