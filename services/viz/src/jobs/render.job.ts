import { Type, type Static } from 'typebox';
import {
  AppError,
  createServiceMetrics,
  defineJobType,
  loadConfig,
  PermanentJobError,
  type JobTypeFactory,
} from '@datalab/platform';
import { createChartsRepository } from '../charts/charts.repository.ts';
import { createChartsService } from '../charts/charts.service.ts';
import { vizConfigSchema } from '../config.ts';
import { createDashboardRenderer } from '../dashboards/dashboards.render.ts';
import { createDashboardsRepository } from '../dashboards/dashboards.repository.ts';
import { createDashboardsService } from '../dashboards/dashboards.service.ts';
import { createDataClient } from '../data/data.client.ts';
import { createRenderCache } from '../render/render.cache.ts';
import { createRenderMetrics } from '../render/render.metrics.ts';
import { createRenderPool } from '../render/render.pool.ts';
import { createRenderService } from '../render/render.service.ts';
import { createExportsRepository } from './exports.repository.ts';

export const RenderJobParams = Type.Object(
  {
    dashboard_id: Type.Optional(Type.String({ format: 'uuid', description: 'The dashboard to render…' })),
    chart_id: Type.Optional(
      Type.String({ format: 'uuid', description: '…or the chart (exactly one of them).' }),
    ),
    format: Type.Enum(['png', 'pdf'], { default: 'png' }),
    width: Type.Optional(Type.Integer({ minimum: 200, maximum: 8192 })),
    scale: Type.Number({ minimum: 0.1, maximum: 8, default: 1 }),
  },
  { additionalProperties: false },
);
export type RenderJobParams = Static<typeof RenderJobParams>;

/** Failures retrying cannot fix: the job fails at once. */
const PERMANENT = new Set(['invalid', 'not_found', 'forbidden', 'too_large']);

/**
 * `render`: a dashboard or chart to PNG or PDF, drawn as the job's owner
 * (their charts and datasets only) and stored so the result links to it.
 */
export const vizJobTypes: JobTypeFactory = (deps) => {
  const config = loadConfig(vizConfigSchema, deps.env);
  const charts = createChartsService(createChartsRepository(deps.db.pool));
  const dashboards = createDashboardsService(createDashboardsRepository(deps.db.pool), charts);
  const render = createRenderService({
    data: createDataClient({
      registry: deps.adapters.registry,
      fallbackUrl: config.dataServiceUrl,
      keys: deps.internalKeys,
      timeoutMs: config.renderTimeoutMs,
    }),
    pool: createRenderPool({
      size: 1,
      timeoutMs: config.renderTimeoutMs,
      memoryMb: config.renderWorkerMemoryMb,
      logger: deps.logger,
      // A worker process has no app to close the pool: idle render threads must not keep it alive.
      unref: true,
    }),
    cache: createRenderCache(
      deps.adapters.cache,
      config.renderCacheTtlSeconds,
      config.renderCacheMaxEntryBytes,
    ),
    metrics: createRenderMetrics(createServiceMetrics('viz-service')),
    config,
  });
  const renderDashboard = createDashboardRenderer({ dashboards, charts, render });
  const exports = createExportsRepository(deps.db.pool);

  const job = defineJobType({
    type: 'render',
    queue: 'viz',
    params: RenderJobParams,
    timeoutMs: config.renderTimeoutMs * 3,
    maxAttempts: 3,
    handler: async ({ jobId, params, owner, progress }) => {
      const done = await exports.findByJob(jobId);
      if (!done) {
        const target = params.dashboard_id ?? params.chart_id;
        if (!target || (params.dashboard_id && params.chart_id))
          throw new PermanentJobError('Give exactly one of dashboard_id and chart_id');
        await progress(10, 'rendering');
        try {
          const options = { format: params.format, width: params.width, scale: params.scale };
          const result = params.dashboard_id
            ? await renderDashboard(owner, params.dashboard_id, options)
            : await render.render(
                owner,
                { spec: (await charts.get(owner, target)).spec, pointer: '/spec' },
                options,
              );
          await progress(90, 'storing');
          const kind = params.dashboard_id ? 'dashboard' : 'chart';
          await exports.insert({
            job_id: jobId,
            owner_id: owner.userId,
            content_type: result.contentType,
            filename: `${kind}-${target}.${params.format}`,
            bytes: result.body!,
          });
        } catch (error) {
          if (error instanceof AppError && PERMANENT.has(error.kind))
            throw new PermanentJobError(error.message);
          throw error;
        }
      }
      const stored = (await exports.findByJob(jobId))!;
      return {
        export_id: stored.id,
        url: `/api/v1/viz/exports/${stored.id}`,
        content_type: stored.content_type,
        bytes: Number(stored.size),
        filename: stored.filename,
      };
    },
  });
  return [job];
};
