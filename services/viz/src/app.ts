import { createServiceServer, type App, type ServiceDeps } from '@datalab/platform';
import { createChartsRepository, type ChartRow } from './charts/charts.repository.ts';
import { chartsRoutes } from './charts/charts.routes.ts';
import { CHART_CHANGED, createChartsService } from './charts/charts.service.ts';
import type { vizConfigSchema } from './config.ts';
import { createDashboardRenderer } from './dashboards/dashboards.render.ts';
import { createDashboardsRepository, type DashboardRow } from './dashboards/dashboards.repository.ts';
import { dashboardsRoutes } from './dashboards/dashboards.routes.ts';
import { createDashboardsService, DASHBOARD_CHANGED } from './dashboards/dashboards.service.ts';
import { createDataClient } from './data/data.client.ts';
import { rememberDatasets } from './data/dataset-memory.ts';
import { createEventMemory } from './memory/event-memory.ts';
import { createExportsRepository } from './jobs/exports.repository.ts';
import { exportsRoutes } from './jobs/exports.routes.ts';
import { createRenderCache } from './render/render.cache.ts';
import { createRenderMetrics } from './render/render.metrics.ts';
import { createRenderPool } from './render/render.pool.ts';
import { renderRoutes } from './render/render.routes.ts';
import { createRenderService } from './render/render.service.ts';

/** Bounds each in-process memory of charts and dashboards (a chart's spec may be 256 KiB). */
const REMEMBERED_BYTES = 32 * 1024 * 1024;

export async function buildApp(deps: ServiceDeps<typeof vizConfigSchema>): Promise<App> {
  const { config } = deps;
  const app = await createServiceServer(deps);
  const memoryOf = { events: deps.adapters.events, ttlMs: config.chartTtlMs, maxBytes: REMEMBERED_BYTES };
  const chartMemory = createEventMemory<ChartRow>({ ...memoryOf, channel: CHART_CHANGED });
  const dashboardMemory = createEventMemory<DashboardRow>({ ...memoryOf, channel: DASHBOARD_CHANGED });
  const charts = createChartsService(createChartsRepository(deps.db.pool), chartMemory);
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
  const listenOrWarn = (listen: () => Promise<() => Promise<void>>, consequence: string) =>
    listen().catch((error: unknown) => {
      deps.logger.warn({ err: String(error) }, `change events unavailable: ${consequence}`);
      return async () => undefined;
    });
  const listening = Promise.all([
    listenOrWarn(datasets.listen, 'every render asks the data-service'),
    listenOrWarn(chartMemory.listen, 'every render reads its chart from PostgreSQL'),
    listenOrWarn(dashboardMemory.listen, 'every dashboard render reads it from PostgreSQL'),
  ]);
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
  const dashboards = createDashboardsService(
    createDashboardsRepository(deps.db.pool),
    charts,
    dashboardMemory,
  );
  chartsRoutes(app, charts);
  renderRoutes(app, { render, charts, metrics });
  exportsRoutes(app, createExportsRepository(deps.db.pool));
  dashboardsRoutes(app, {
    dashboards,
    renderDashboard: createDashboardRenderer({ dashboards, charts, render }),
    metrics,
  });
  app.addHook('onClose', async () => {
    await Promise.all((await listening).map((stop) => stop()));
    await pool.close();
    await data.close();
  });
  return app;
}
