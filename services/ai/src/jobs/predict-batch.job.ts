import { defineJobType, isAppError, type JobType } from '@datalab/platform';
import type { LoadedModel, Prediction, Row } from '../inference/loaded-model.ts';
import { validateRows } from '../inference/input-validation.ts';
import type { ModelLoader } from '../inference/model-loader.ts';
import type { ModelsService } from '../models/models.service.ts';
import { PREDICT_BATCH_JOB } from '../training/training.service.ts';
import { PredictBatchBody } from '../training/training.schemas.ts';
import { Type } from 'typebox';
import type { DataClient } from '../upstream/data-client.ts';
import { permanentOnBadInput } from './job-errors.ts';

const CHUNK_ROWS = 1000;

export const PredictBatchParams = Type.Object(
  {
    ...PredictBatchBody.properties,
    model_id: Type.String({ format: 'uuid' }),
    version: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

export interface PredictBatchDeps {
  models: ModelsService;
  data: DataClient;
  load: ModelLoader;
}

/** Prediction objects become columns: nested objects (class probabilities) one column per member. */
function flatten(prediction: Prediction, taken: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const put = (name: string, value: unknown) => (out[taken.has(name) ? `predicted_${name}` : name] = value);
  for (const [key, value] of Object.entries(prediction)) {
    if (value && typeof value === 'object' && !Array.isArray(value))
      for (const [member, inner] of Object.entries(value))
        put(`${key}_${member}`.toLowerCase().replace(/[^a-z0-9_]/g, '_'), inner);
    else put(key, value);
  }
  return out;
}

async function score(
  model: LoadedModel,
  rows: readonly Row[],
  inputs: readonly string[],
): Promise<Prediction[]> {
  const picked = rows.map((row) => Object.fromEntries(inputs.map((name) => [name, row[name]])));
  return model.run(validateRows(model.inputSchema, picked));
}

/**
 * Scores a whole dataset with one model version (as the job's owner) and
 * writes the rows with their predictions as a new dataset. The output name is
 * fixed by the job, so a second run finds the dataset the first one wrote.
 */
export function predictBatchJob(deps: PredictBatchDeps): JobType {
  return defineJobType({
    type: PREDICT_BATCH_JOB,
    queue: 'ai',
    params: PredictBatchParams,
    timeoutMs: 60 * 60_000,
    maxAttempts: 2,
    handler: ({ jobId, params, owner, signal, progress }) =>
      permanentOnBadInput(async () => {
        const version = await deps.models.readableVersion(owner, params.model_id, params.version);
        const source = await deps.data.dataset(owner, params.dataset);
        const name = params.output_name ?? `${source.name.slice(0, 40)}_scored_${jobId.slice(0, 8)}`;
        try {
          const existing = await deps.data.dataset(owner, name);
          return { dataset_id: existing.id, dataset: existing.name, rows: existing.row_count };
        } catch (error) {
          // Not written yet is the usual case; anything else is a real failure.
          if (!isAppError(error) || error.kind !== 'not_found') throw error;
        }
        await progress(5, 'reading the dataset');
        const { rows } = await deps.data.rows(owner, source.id, signal);
        const model = await deps.load(version);
        const taken = new Set(source.columns.map((column) => column.name));
        const inputs = version.input_schema.fields.map((field) => field.name);
        const lines: string[] = [];
        try {
          for (let at = 0; at < rows.length; at += CHUNK_ROWS) {
            signal.throwIfAborted();
            const chunk = rows.slice(at, at + CHUNK_ROWS);
            const predictions = await score(model, chunk, inputs);
            chunk.forEach((row, i) =>
              lines.push(JSON.stringify({ ...row, ...flatten(predictions[i]!, taken) })),
            );
            await progress(10 + (80 * (at + chunk.length)) / rows.length, `scored ${at + chunk.length} rows`);
          }
        } finally {
          await model.release();
        }
        const created = await deps.data.createDataset(
          owner,
          {
            name,
            description: `${source.name} scored by model ${params.model_id} version ${params.version}`,
            visibility: params.visibility ?? 'private',
          },
          lines.join('\n'),
        );
        return { dataset_id: created.dataset.id, dataset: created.dataset.name, rows: created.rows_written };
      }),
  });
}
