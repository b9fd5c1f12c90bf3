import { defineJobType, PermanentJobError, type JobType } from '@datalab/platform';
import type { ModelsRepository } from '../models/models.repository.ts';
import type { ModelsService } from '../models/models.service.ts';
import { tabularInputSchema, tabularOutputSchema } from '../training/tabular-model.ts';
import { trainInThread } from '../training/train-thread.ts';
import { TRAIN_JOB } from '../training/training.service.ts';
import { TrainBody } from '../training/training.schemas.ts';
import type { DataClient } from '../upstream/data-client.ts';
import { permanentOnBadInput } from './job-errors.ts';

export interface TrainJobDeps {
  models: ModelsService;
  repository: ModelsRepository;
  data: DataClient;
  maxRows: number;
}

/**
 * Reads the dataset through the data-service as the job's owner, trains,
 * and records a model version whose lineage names the dataset version,
 * columns, params and this job. Run twice, it finds its version and stops.
 */
export function trainJob(deps: TrainJobDeps): JobType {
  return defineJobType({
    type: TRAIN_JOB,
    queue: 'ai',
    params: TrainBody,
    timeoutMs: 60 * 60_000,
    maxAttempts: 2,
    handler: ({ jobId, params, owner, signal, progress, log }) =>
      permanentOnBadInput(async () => {
        const done = await deps.repository.findByJob(jobId);
        if (done) return { model_id: done.model_id, version: done.version, metrics: done.metrics };
        await progress(5, 'reading the dataset');
        const dataset = await deps.data.dataset(owner, params.dataset);
        if (dataset.row_count > deps.maxRows)
          throw new PermanentJobError(
            `The dataset has ${dataset.row_count} rows; training reads at most ${deps.maxRows} (AI_TRAIN_MAX_ROWS)`,
          );
        const { columns, rows } = await deps.data.rows(owner, dataset.id, signal);
        await progress(30, `training ${params.algorithm} on ${rows.length} rows`);
        const trained = await trainInThread(
          {
            columns,
            rows,
            target: params.target,
            features: params.features,
            algorithm: params.algorithm,
            params: params.params ?? {},
          },
          signal,
          (done, total, step) => void progress(30 + Math.round((60 * done) / total), step),
        );
        await log('info', `metrics: ${JSON.stringify(trained.metrics)}`);
        await progress(90, 'saving the model');
        const target = params.model_id
          ? { modelId: params.model_id }
          : {
              name: params.name ?? params.algorithm,
              description: params.description ?? '',
              visibility: params.visibility ?? 'private',
            };
        const version = await deps.models.publish(
          owner,
          target,
          {
            kind: 'tabular',
            algorithm: params.algorithm,
            task: trained.artifact.task,
            inputSchema: tabularInputSchema(trained.artifact),
            outputSchema: tabularOutputSchema(trained.artifact),
            metrics: trained.metrics,
            lineage: {
              job_id: jobId,
              dataset_id: dataset.id,
              dataset_name: dataset.name,
              dataset_version: dataset.version,
              target: params.target ?? null,
              features: trained.artifact.encodings.map((encoding) => encoding.name),
              params: params.params ?? {},
            },
          },
          Buffer.from(JSON.stringify(trained.artifact)),
        );
        return { model_id: version.model_id, version: version.version, metrics: version.metrics };
      }),
  });
}
