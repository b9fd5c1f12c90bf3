import multipart from '@fastify/multipart';
import { createServiceServer, type App, type ServiceDeps } from '@datalab/platform';
import { browseRoutes } from './browse/browse.routes.ts';
import { createProfileMetrics } from './browse/profile.metrics.ts';
import { createProfileRepository } from './browse/profile.repository.ts';
import { createProfileService } from './browse/profile.service.ts';
import { createRowsReader } from './browse/rows.reader.ts';
import { createRowsService } from './browse/rows.service.ts';
import type { dataConfigSchema } from './config.ts';
import { cachedCatalog } from './datasets/catalog-cache.ts';
import { createDatasetsRepository } from './datasets/datasets.repository.ts';
import { datasetsRoutes } from './datasets/datasets.routes.ts';
import { createDatasetsService } from './datasets/datasets.service.ts';
import { createIngestMetrics } from './datasets/datasets.metrics.ts';
import { queryRoutes } from './query/query.routes.ts';
import { createQueryService } from './query/query.service.ts';
import { sweepWhileListening } from './storage/sweeper.ts';
import { openDatasetFiles } from './versions/dataset-files.ts';

export type DataDeps = ServiceDeps<typeof dataConfigSchema>;

export async function buildApp(deps: DataDeps): Promise<App> {
  const { config } = deps;
  const app = await createServiceServer(deps);
  // Files are streamed part by part; the size limit is applied per upload route.
  await app.register(multipart, { limits: { fileSize: config.maxUploadBytes, files: 1, fields: 30 } });

  if (!deps.db.queryPool) {
    deps.logger.error(
      'QUERY_DATABASE_URL is not set: SQL queries are refused (503) until this service has a login that is only a member of datalab_reader (see docs/deployment.md)',
    );
  }
  const files = await openDatasetFiles(config, deps.common.dataDir);
  app.addHook('onClose', () => files.close());
  sweepWhileListening(app, {
    pool: deps.db.pool,
    storage: files.storage,
    logger: deps.logger,
    graceSeconds: config.sweepGraceSeconds,
    intervalSeconds: config.sweepIntervalSeconds,
  });
  const repository = createDatasetsRepository(deps.db.pool);
  const lookups = cachedCatalog(
    repository,
    deps.adapters.events,
    config.queryCatalogCacheMs,
    config.queryCatalogCacheBytes,
  );
  // Not awaited: a slow or absent pub/sub must not stop the service.
  const listening = lookups.listen(deps.logger);
  app.addHook('onClose', async () => (await listening)());
  const datasets = createDatasetsService(
    deps.db.pool,
    repository,
    config,
    createIngestMetrics(deps.metrics),
    files,
    lookups.changed,
  );
  datasetsRoutes(app, datasets, {
    maxBytes: config.maxUploadBytes,
    minBytesPerSecond: config.uploadMinBytesPerSecond,
    rateWindowMs: config.uploadRateWindowMs,
  });
  queryRoutes(
    app,
    createQueryService({
      queryPool: deps.db.queryPool,
      readPool: deps.db.readPool,
      catalog: lookups.catalog,
      cache: deps.adapters.cache,
      metrics: deps.metrics,
      config,
    }),
  );
  browseRoutes(app, {
    rows: createRowsService(
      repository,
      createRowsReader(files, { maxBytes: config.queryMaxAnswerBytes, timeoutMs: config.queryTimeoutMs }),
    ),
    profiles: createProfileService(
      repository,
      createProfileRepository(deps.db.pool, deps.db.readPool),
      files,
      { timeoutMs: config.queryTimeoutMs, timeoutSetting: 'QUERY_TIMEOUT_MS' },
      createProfileMetrics(deps.metrics),
    ),
  });
  return app;
}
