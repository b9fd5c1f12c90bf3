import swaggerUi from '@fastify/swagger-ui';
import { createServiceServer, serveMetrics, type App, type ServiceDeps } from '@datalab/platform';
import { Agent } from 'undici';
import { registerAuditHook } from './audit/audit.hook.ts';
import { auditRoutes } from './audit/audit.routes.ts';
import { createAuditLog } from './audit/audit.service.ts';
import { enforceAccess, identifyCallers, identityRoutes } from './auth/auth.plugin.ts';
import { createIdentity } from './auth/identity.ts';
import { onlyAdmins } from './auth/require-admin.ts';
import type { RecordSecurityEvent } from './auth/security-events.ts';
import { loadAccessTokenKeys } from './auth/signing-keys.ts';
import type { gatewayConfigSchema } from './config.ts';
import { registerHttpPolicies } from './http/security-headers.ts';
import { createOpenApiAggregator } from './openapi/openapi.ts';
import { createCallerShares } from './proxy/caller-shares.ts';
import { createInternalTokenCache } from './proxy/internal-tokens.ts';
import { proxyRoutes } from './proxy/proxy.routes.ts';
import { principalsEndpoint } from './principals/principals.endpoint.ts';
import { registerRateLimits } from './rate-limit/rate-limit.ts';
import { upstreamDefinitions } from './upstreams/route-table.ts';
import { servicesRoutes } from './upstreams/services.routes.ts';
import { createUpstreamMetrics } from './upstreams/upstream-metrics.ts';
import { createUpstreams } from './upstreams/upstreams.ts';
import { DEFAULT_WEB_DIST, registerWebUi } from './web-ui/web-ui.ts';

export type GatewayDeps = ServiceDeps<typeof gatewayConfigSchema>;

export async function buildApp(deps: GatewayDeps): Promise<App> {
  const { config } = deps;
  const dispatcher = new Agent({
    connect: { timeout: config.upstreamConnectTimeoutMs },
    keepAliveTimeout: 10_000,
    connections: config.upstreamConnections,
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
  const keys = await loadAccessTokenKeys(deps);
  const auditLog = createAuditLog({
    pool: deps.db.pool,
    logger: deps.logger,
    metrics: deps.metrics,
    flushIntervalMs: config.auditFlushIntervalMs,
    maxBatch: config.auditMaxBatch,
    maxBuffer: config.auditMaxBuffer,
    retentionDays: config.auditRetentionDays,
  });
  const recordEvent: RecordSecurityEvent = (event) => auditLog.recordSecurityEvent(event);
  const identity = createIdentity(deps, keys, recordEvent);

  const app = await createServiceServer(deps, {
    authentication: 'none',
    operationsAccess: onlyAdmins('read the gateway’s metrics and instance details'),
    openApiDocument: (own) => openapi.document(own),
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiHooks: {
      preHandler: (_request, _reply, done) => {
        openapi.document(() => app.swagger()).then(() => done(), done);
      },
    },
    transformSpecification: (own) => openapi.current() ?? own,
  });
  await registerHttpPolicies(app, config.corsOrigins);
  registerAuditHook(app, auditLog);
  principalsEndpoint(app, { pool: deps.db.pool, internalKeys: deps.internalKeys }); // ahead of user auth
  // onRequest order: who is calling → rate limits (counting failed credentials too) → access rules.
  identifyCallers(app, identity);
  registerRateLimits(app, {
    store: deps.adapters.rateLimits,
    config,
    metrics: deps.metrics,
    logger: deps.logger,
    batchBodyLimitBytes: deps.common.bodyLimitBytes,
  });
  enforceAccess(app);
  identityRoutes(app, identity, keys);
  servicesRoutes(app, upstreams);
  auditRoutes(app, auditLog);
  await proxyRoutes(app, {
    upstreams,
    dispatcher,
    timeoutMs: config.upstreamTimeoutMs,
    internalToken: createInternalTokenCache(deps.internalKeys.active),
    metrics: createUpstreamMetrics(deps.metrics, upstreams),
    limits: config,
    shares: createCallerShares(config),
  });
  registerWebUi(app, config.webDistDir ?? DEFAULT_WEB_DIST);

  // Know the upstreams' health before the first request: listen() waits for onReady.
  let metricsServer: { close: () => Promise<void> } | undefined;
  app.addHook('onReady', async () => {
    await upstreams.refresh();
    upstreams.start();
    if (config.gatewayMetricsPort !== undefined)
      metricsServer = await serveMetrics(deps.metrics.registry, deps.common.host, config.gatewayMetricsPort);
  });
  app.addHook('onClose', async () => {
    await metricsServer?.close();
    upstreams.stop();
    await identity.close();
    await dispatcher.close();
    await auditLog.close();
  });
  return app;
}
