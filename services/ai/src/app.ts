import multipart from '@fastify/multipart';
import { createServiceServer, type App, type ServiceDeps } from '@datalab/platform';
import { createArtifactStore } from './artifacts/configured-store.ts';
import type { aiConfigSchema } from './config.ts';
import { createGpuMetrics } from './inference/gpu-metrics.ts';
import { createInferenceMetrics } from './inference/inference.metrics.ts';
import { createInferenceService } from './inference/inference.service.ts';
import { createModelCache } from './inference/model-cache.ts';
import { createModelLoader } from './inference/model-loader.ts';
import { predictRoutes } from './inference/predict.routes.ts';
import { createVersionLookup } from './inference/version-lookup.ts';
import { createModelsRepository } from './models/models.repository.ts';
import { modelsRoutes } from './models/models.routes.ts';
import { createModelsService } from './models/models.service.ts';
import { createOnnxUploads } from './models/onnx-upload.ts';
import { createTrainingService } from './training/training.service.ts';
import { createComputeClient } from './upstream/compute-client.ts';
import { createDataClient } from './upstream/data-client.ts';
import { createUpstream } from './upstream/upstreams.ts';

export type AiDeps = ServiceDeps<typeof aiConfigSchema>;

export async function buildApp(deps: AiDeps): Promise<App> {
  const { config } = deps;
  const app = await createServiceServer(deps);
  await app.register(multipart, { limits: { fileSize: config.maxModelBytes, files: 1, fields: 10 } });

  const store = createArtifactStore(config, deps.common.dataDir);
  const repository = createModelsRepository(deps.db.pool);
  const lookup = createVersionLookup(repository, config.modelLookupTtlMs);
  const models = createModelsService({ repository, store, onChange: lookup.forget });
  const upstream = (name: 'data-service' | 'compute-service', configuredUrl: string | undefined) =>
    createUpstream({
      name,
      configuredUrl,
      registry: deps.adapters.registry,
      internalKeys: deps.internalKeys,
    });
  const dataUpstream = upstream('data-service', config.dataServiceUrl);
  const computeUpstream = upstream('compute-service', config.computeServiceUrl);

  // The queue gauge reads the cache at scrape time, by when it exists.
  const metrics = createInferenceMetrics(deps.metrics, () => cache.queuedRows());
  const cache = createModelCache(config.modelCacheBytes, metrics);
  const gpu =
    config.executionProvider === 'cuda'
      ? createGpuMetrics({
          registry: deps.metrics.registry,
          logger: deps.logger,
          command: config.nvidiaSmi,
          intervalMs: config.gpuMetricsIntervalMs,
        })
      : undefined;
  void gpu?.start();
  const limits = { maxTensorBytes: config.onnxMaxTensorBytes };
  const runtime = {
    executionProvider: config.executionProvider,
    limits,
    onFallback: (reason: string) => deps.logger.warn({ reason }, 'CUDA provider unavailable; using CPU'),
  };
  const inference = createInferenceService({
    lookup,
    cache,
    load: createModelLoader({
      store,
      executionProvider: config.executionProvider,
      limits,
      logger: deps.logger,
    }),
    metrics,
    batching: {
      maxBatchRows: config.batchMaxSize,
      maxWaitMs: config.batchMaxWaitMs,
      concurrency: config.runConcurrency,
      queueLimit: config.queueLimit,
      breakerResetMs: config.breakerResetMs,
    },
    maxRows: config.predictMaxRows,
  });
  const training = createTrainingService({
    models,
    data: createDataClient(dataUpstream),
    compute: createComputeClient(computeUpstream),
  });

  modelsRoutes(app, models, createOnnxUploads(models, runtime), config.maxModelBytes);
  predictRoutes(app, inference, training);
  app.addHook('onClose', async () => {
    gpu?.stop();
    await cache.close();
    await dataUpstream.close();
    await computeUpstream.close();
  });
  return app;
}
