import swaggerUi from '@fastify/swagger-ui';
import { createServiceServer, type App, type ServiceDeps } from '@datalab/platform';
import { Agent } from 'undici';
import type { gatewayConfigSchema } from './config.ts';
import { createOpenApiAggregator } from './openapi/openapi.ts';
import { proxyRoutes } from './proxy/proxy.routes.ts';
import { servicesRoutes } from './upstreams/services.routes.ts';
import { createUpstreams, type UpstreamDefinition } from './upstreams/upstreams.ts';

export type GatewayDeps = ServiceDeps<typeof gatewayConfigSchema>;

/** Which public prefix goes to which service. */
export const ROUTES = [
  { name: 'data-service', prefix: '/api/v1/data' },
  { name: 'ai-service', prefix: '/api/v1/ai' },
  { name: 'compute-service', prefix: '/api/v1/compute' },
  { name: 'viz-service', prefix: '/api/v1/viz' },
] as const;

function upstreamDefinitions(config: GatewayDeps['config']): UpstreamDefinition[] {
  const urls = {
    'data-service': config.dataServiceUrls,
    'ai-service': config.aiServiceUrls,
    'compute-service': config.computeServiceUrls,
    'viz-service': config.vizServiceUrls,
  };
  return ROUTES.map((route) => ({ ...route, staticUrls: urls[route.name] }));
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

  // Know the upstreams' health before the first request: listen() waits for onReady.
  app.addHook('onReady', async () => {
    await upstreams.refresh();
    upstreams.start();
  });
  app.addHook('onClose', async () => {
    upstreams.stop();
    await dispatcher.close();
  });
  return app;
}
