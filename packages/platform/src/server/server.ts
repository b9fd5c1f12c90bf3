import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyRequest,
  type RawServerDefault,
} from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { NotReady, Problem, Readiness, ServiceInfo, type ServiceName } from '@datalab/contracts';
import { handleError, handleNotFound, problemDocument, sendProblem } from '../errors/problem.ts';
import { Gauge, type ServiceMetrics } from '../metrics/metrics.ts';
import { answerClientError } from './client-errors.ts';
import { deferContinue } from './expect-continue.ts';
import { checkDependencies, type DependencyCheck } from './health.ts';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.ts';
import { originForm } from './request-target.ts';
import { finishServerSpan, tracedServerFactory, tracingEnabled } from '../tracing/tracing.ts';

export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  Logger,
  TypeBoxTypeProvider
>;

export interface ServerOptions {
  service: ServiceName;
  version: string;
  instanceId: string;
  /** One sentence for the OpenAPI document. */
  description: string;
  logger: Logger;
  metrics: ServiceMetrics;
  /** Checked by `/health/ready` and `/info`. */
  dependencies: readonly DependencyCheck[];
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  /**
   * Proxies trusted to say who the client is (X-Forwarded-For), so `request.ip`
   * is the client and not the load balancer: `true`, or addresses/CIDRs. Default none.
   */
  trustProxy?: boolean | string[];
  /** On close, how long requests in flight may run before their connections are closed. */
  drainMs?: number;
  /**
   * Checks a caller of `/metrics` and `/info` (an onRequest hook that throws to refuse): the
   * gateway's port is public, so there only admins may read them. Open to all by default (a
   * service behind the gateway is reached only inside the network).
   */
  operationsAccess?: (request: FastifyRequest) => Promise<void>;
  /** What `/openapi.json` serves; the service's own document by default (the gateway serves an aggregate). */
  openApiDocument?: (own: () => unknown) => unknown;
}

const QUIET_ROUTES = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * The HTTP server every service starts from: request ids, one problem+json
 * error handler, request metrics, health, `/metrics`, `/info` and `/openapi.json`.
 */
export async function createServer(options: ServerOptions): Promise<App> {
  const app = Fastify({
    loggerInstance: options.logger,
    genReqId: requestIdFrom,
    // One line per request is written by the onResponse hook below, with its duration and status.
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    trustProxy: options.trustProxy ?? false,
    rewriteUrl: originForm,
    clientErrorHandler: answerClientError,
    ...(tracingEnabled() ? { serverFactory: tracedServerFactory(options.service) } : {}),
    ajv: {
      customOptions: {
        allErrors: true,
        removeAdditional: false,
        coerceTypes: 'array',
        allowUnionTypes: true,
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorateRequest('principal', undefined);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.service, version: options.version, description: options.description },
      components: { schemas: { Problem } },
    },
  });

  app.addHook('onRequest', async (request, reply) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
  });
  deferContinue(app);
  // While closing, answers in flight ask the client to hang up, so their
  // keep-alive connections do not hold the shutdown open; after the drain time, the connections
  // still busy (an endless stream, a slow upload or download) are closed: their requests were not
  // answered, so nothing they sent was acknowledged.
  let closing = false;
  let drain: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    closing = true;
    drain = setTimeout(() => app.server.closeAllConnections(), options.drainMs ?? 0);
    drain.unref();
  });
  app.addHook('onClose', async () => clearTimeout(drain));
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    finishServerSpan(request.raw, route, reply.statusCode);
    if (request.principal) options.metrics.seenUser(request.principal.userId);
    options.metrics.httpDuration.observe(
      { service: options.service, method: request.method, route, status: String(reply.statusCode) },
      seconds,
    );
    const line = {
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      ms: reply.elapsedTime,
    };
    if (QUIET_ROUTES.has(route)) request.log.debug(line, 'request');
    else request.log.info(line, 'request');
  });

  registerOperationalRoutes(app, options);
  registerDependencyGauge(options);
  return app;
}

/** `dependency_up`: the readiness checks, run when scraped, so alerts see a lost database or Redis. */
function registerDependencyGauge(options: ServerOptions): void {
  if (options.metrics.registry.getSingleMetric('dependency_up')) return;
  new Gauge({
    name: 'dependency_up',
    help: 'Whether a dependency (postgres, redis, ...) answered its readiness check at scrape time.',
    labelNames: ['dependency'] as const,
    registers: [options.metrics.registry],
    async collect() {
      for (const dependency of await checkDependencies(options.dependencies))
        this.set({ dependency: dependency.name }, dependency.status === 'up' ? 1 : 0);
    },
  });
}

function registerOperationalRoutes(app: App, options: ServerOptions): void {
  const startedAt = new Date().toISOString();
  const hide = { tags: ['operations'] };
  const access = options.operationsAccess ? { onRequest: options.operationsAccess } : {};

  app.get('/health/live', { schema: { ...hide, summary: 'The process is up.' } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/health/ready',
    {
      schema: { ...hide, summary: 'Every dependency answers.', response: { 200: Readiness, 503: NotReady } },
    },
    async (request, reply) => {
      const dependencies = await checkDependencies(options.dependencies);
      const down = dependencies.filter((d) => d.status === 'down');
      if (down.length === 0) return { status: 'ready' as const, dependencies };
      const detail = `Not ready: ${down.map((d) => `${d.name} is down (${d.error ?? 'no answer'})`).join('; ')}`;
      return sendProblem(reply, { ...problemDocument(request, 503, detail, 'unavailable'), dependencies });
    },
  );

  app.get(
    '/info',
    { ...access, schema: { ...hide, summary: 'Who this instance is.', response: { 200: ServiceInfo } } },
    async () => ({
      name: options.service,
      version: options.version,
      instance_id: options.instanceId,
      started_at: startedAt,
      dependencies: await checkDependencies(options.dependencies),
    }),
  );

  app.get('/metrics', { ...access, schema: { hide: true } }, async (_request, reply) => {
    const body = await options.metrics.registry.metrics();
    return reply.type(options.metrics.registry.contentType).send(body);
  });

  const document = options.openApiDocument ?? ((own: () => unknown) => own());
  app.get('/openapi.json', { schema: { hide: true } }, async () => document(() => app.swagger()));
}
