import { AppError, type Principal } from '@datalab/platform';
import type { ModelsService } from '../models/models.service.ts';
import type { ComputeClient, SubmittedJob } from '../upstream/compute-client.ts';
import type { DataClient } from '../upstream/data-client.ts';
import { ALGORITHMS } from './algorithms.ts';
import type { PredictBatchBody, TrainBody } from './training.schemas.ts';

export const TRAIN_JOB = 'ai.train';
export const PREDICT_BATCH_JOB = 'ai.predict-batch';

export interface TrainingDeps {
  models: ModelsService;
  data: DataClient;
  compute: ComputeClient;
}

/**
 * Turns requests into compute jobs submitted as the caller: checks what can
 * be checked now (rights, dataset, columns) so a bad request is a 400 here,
 * not a failed job later.
 */
export function createTrainingService(deps: TrainingDeps) {
  return {
    async train(principal: Principal, body: TrainBody): Promise<SubmittedJob> {
      const task = ALGORITHMS[body.algorithm];
      const supervised = task === 'classification' || task === 'regression';
      if (supervised && !body.target)
        throw new AppError('invalid', `${body.algorithm} needs a target column`, {
          errors: [{ field: '/body/target', message: 'is required for this algorithm' }],
        });
      await deps.models.assertCanPublish(
        principal,
        body.model_id ? { modelId: body.model_id } : { name: 'new', description: '', visibility: 'private' },
      );
      const dataset = await deps.data.dataset(principal, body.dataset);
      const columns = new Set(dataset.columns.map((column) => column.name));
      if (body.target && !columns.has(body.target))
        throw new AppError('invalid', `The dataset has no column "${body.target}"`, {
          errors: [{ field: '/body/target', message: `is not a column of ${dataset.name}` }],
        });
      (body.features ?? []).forEach((feature, i) => {
        if (!columns.has(feature))
          throw new AppError('invalid', `The dataset has no column "${feature}"`, {
            errors: [{ field: `/body/features/${i}`, message: `is not a column of ${dataset.name}` }],
          });
      });
      return deps.compute.submit(principal, TRAIN_JOB, {
        ...body,
        dataset: dataset.id,
        name: body.name ?? `${body.algorithm} on ${dataset.name}`,
      });
    },

    async predictBatch(principal: Principal, modelId: string, body: PredictBatchBody): Promise<SubmittedJob> {
      const version = await deps.models.readableVersion(principal, modelId, body.version);
      const dataset = await deps.data.dataset(principal, body.dataset);
      return deps.compute.submit(principal, PREDICT_BATCH_JOB, {
        ...body,
        model_id: modelId,
        version: version.version,
        dataset: dataset.id,
      });
    },
  };
}

export type TrainingService = ReturnType<typeof createTrainingService>;
