import { loadConfig, type JobTypeFactory } from '@datalab/platform';
import { createArtifactStore } from '../artifacts/configured-store.ts';
import { aiConfigSchema } from '../config.ts';
import { createModelLoader } from '../inference/model-loader.ts';
import { createModelsRepository } from '../models/models.repository.ts';
import { createModelsService } from '../models/models.service.ts';
import { createDataClient } from '../upstream/data-client.ts';
import { createUpstream } from '../upstream/upstreams.ts';
import { predictBatchJob } from './predict-batch.job.ts';
import { trainJob } from './train.job.ts';

/** The ai-service's job types, built in whichever process runs jobs (compute-service or `datalab worker`). */
export const aiJobTypes: JobTypeFactory = (deps) => {
  const config = loadConfig(aiConfigSchema, deps.env);
  const store = createArtifactStore(config, deps.common.dataDir);
  const repository = createModelsRepository(deps.db.pool);
  const models = createModelsService({ repository, store });
  const data = createDataClient(
    createUpstream({
      name: 'data-service',
      configuredUrl: config.dataServiceUrl,
      registry: deps.adapters.registry,
      internalKeys: deps.internalKeys,
    }),
  );
  const load = createModelLoader({
    store,
    executionProvider: config.executionProvider,
    limits: { maxTensorBytes: config.onnxMaxTensorBytes },
    logger: deps.logger,
  });
  return [
    trainJob({ models, repository, data, maxRows: config.trainMaxRows }),
    predictBatchJob({ models, data, load }),
  ];
};
