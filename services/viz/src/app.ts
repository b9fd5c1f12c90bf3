import { createServiceServer, type App, type ServiceDeps } from '@datalab/platform';
import { createChartsRepository } from './charts/charts.repository.ts';
import { chartsRoutes } from './charts/charts.routes.ts';
import { createChartsService } from './charts/charts.service.ts';
import type { vizConfigSchema } from './config.ts';
import { createDashboardRenderer } from './dashboards/dashboards.render.ts';
import { createDashboardsRepository } from './dashboards/dashboards.repository.ts';
import { dashboardsRoutes } from './dashboards/dashboards.routes.ts';
import { createDashboardsService } from './dashboards/dashboards.service.ts';
import { createDataClient } from './data/data.client.ts';
import { rememberDatasets } from './data/dataset-memory.ts';
import { createExportsRepository } from './jobs/exports.repository.ts';
import { exportsRoutes } from './jobs/exports.routes.ts';
import { createRenderCache } from './render/render.cache.ts';
import { createRenderMetrics } from './render/render.metrics.ts';
import { createRenderPool } from './render/render.pool.ts';
import { renderRoutes } from './render/render.routes.ts';
import { createRenderService } from './render/render.service.ts';

export async function buildApp(deps: ServiceDeps<typeof vizConfigSchema>): Promise<App> {
  const { config } = deps;
  const app = await createServiceServer(deps);
  const charts = createChartsService(createChartsRepository(deps.db.pool));
  const datasets = rememberDatasets(
    createDataClient({
      registry: deps.adapters.registry,
      fallbackUrl: config.dataServiceUrl,
      keys: deps.internalKeys,
      timeoutMs: config.renderTimeoutMs,
    }),
    deps.adapters.events,
    config.datasetVersionTtlMs,
  );
  const data = datasets.client;
  const listening = datasets.listen().catch((error: unknown) => {
    deps.logger.warn(
      { err: String(error) },
      'dataset change events unavailable; every render asks the data-service',
    );
    return async () => undefined;
  });
  const metrics = createRenderMetrics(deps.metrics);
  const pool = createRenderPool({
    size: config.renderWorkers,
    timeoutMs: config.renderTimeoutMs,
    memoryMb: config.renderWorkerMemoryMb,
    logger: deps.logger,
  });
  const render = createRenderService({
    data,
    pool,
    cache: createRenderCache(
      deps.adapters.cache,
      config.renderCacheTtlSeconds,
      config.renderCacheMaxEntryBytes,
      // In embedded mode the shared cache is this process's memory already.
      deps.adapters.kind === 'memory' ? 0 : config.renderLocalCacheMb * 1024 * 1024,
    ),
    metrics,
    config,
  });
  const dashboards = createDashboardsService(createDashboardsRepository(deps.db.pool), charts);
  chartsRoutes(app, charts);
  renderRoutes(app, { render, charts, metrics });
  exportsRoutes(app, createExportsRepository(deps.db.pool));
  dashboardsRoutes(app, {
    dashboards,
    renderDashboard: createDashboardRenderer({ dashboards, charts, render }),
    metrics,
  });
  app.addHook('onClose', async () => {
    await (
      await listening
    )();
    await pool.close();
    await data.close();
  });
  return app;
}
