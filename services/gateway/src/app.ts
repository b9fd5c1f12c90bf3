import swaggerUi from '@fastify/swagger-ui';
import { createServiceServer, type App, type ServiceDeps } from '@datalab/platform';
import { Agent } from 'undici';
import type { gatewayConfigSchema } from './config.ts';
import { createOpenApiAggregator } from './openapi/openapi.ts';
import { proxyRoutes } from './proxy/proxy.routes.ts';
import { servicesRoutes } from './upstreams/services.routes.ts';
import { createUpstreams, type UpstreamDefinition } from './upstreams/upstreams.ts';

export type GatewayDeps = ServiceDeps<typeof gatewayConfigSchema>;

function upstreamDefinitions(config: GatewayDeps['config']): UpstreamDefinition[] {
  return [
    { name: 'data-service', prefix: '/api/v1/data', staticUrls: config.dataServiceUrls },
    { name: 'ai-service', prefix: '/api/v1/ai', staticUrls: config.aiServiceUrls },
    { name: 'compute-service', prefix: '/api/v1/compute', staticUrls: config.computeServiceUrls },
    { name: 'viz-service', prefix: '/api/v1/viz', staticUrls: config.vizServiceUrls },
  ];
}

export async function buildApp(deps: GatewayDeps): Promise<App> {
  const { config } = deps;
  const dispatcher = new Agent({
    connect: { timeout: config.upstreamConnectTimeoutMs },
    keepAliveTimeout: 10_000,
    connections: 256,
  });
  const upstreams = createUpstreams({
    definitions: upstreamDefinitions(config),
    registry: deps.adapters.registry,
    intervalMs: config.healthCheckIntervalMs,
    checkTimeoutMs: Math.min(config.healthCheckIntervalMs, 2000),
    dispatcher,
    logger: deps.logger,
  });
  const openapi = createOpenApiAggregator({ upstreams, dispatcher, maxAgeMs: 30_000, logger: deps.logger });

  const app = await createServiceServer(deps, { openApiDocument: (own) => openapi.document(own) });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiHooks: {
      preHandler: (_request, _reply, done) => {
        openapi.document(() => app.swagger()).then(() => done(), done);
      },
    },
    transformSpecification: (own) => openapi.current() ?? own,
  });
  servicesRoutes(app, upstreams);
  await proxyRoutes(app, { upstreams, dispatcher, timeoutMs: config.upstreamTimeoutMs });
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/docs'));

  app.addHook('onListen', async () => {
    await upstreams.refresh();
    upstreams.start();
  });
  app.addHook('onClose', async () => {
    upstreams.stop();
    await dispatcher.close();
  });
  return app;
}
