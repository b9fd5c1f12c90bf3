import type { FastifyRequest } from 'fastify';
import {
  AppError,
  Counter,
  type App,
  type Logger,
  type RateLimitHit,
  type RateLimitStore,
  type ServiceMetrics,
} from '@datalab/platform';
import type { RateLimitConfig } from './rate-limit.config.ts';

/** Which allowance a request draws on. Each budget is counted on its own. */
export type Budget = 'login' | 'expensive' | 'default';

const NOT_LIMITED = [
  /^\/health(\/|$)/,
  /^\/metrics$/,
  /^\/info$/,
  /^\/openapi\.json$/,
  /^\/docs(\/|$)/,
  /^\/\.well-known(\/|$)/,
  // The web UI's content-hashed files: a page load fetches a dozen, and they cost a memory read.
  /^\/assets\//,
];

const LOGIN = [/^\/api\/v1\/auth\/(login|refresh)$/];

const EXPENSIVE_POSTS = [
  /^\/api\/v1\/data\/datasets$/,
  /^\/api\/v1\/data\/datasets\/[^/]+\/versions$/,
  /^\/api\/v1\/compute\/jobs$/,
  /^\/api\/v1\/viz\/render$/,
  /^\/api\/v1\/ai\/models\/(train|onnx)$/,
  /^\/api\/v1\/ai\/models\/[^/]+\/predict$/,
];

const EXPENSIVE_READS = [/^\/api\/v1\/viz\/(charts|dashboards)\/[^/]+\/render\.[^/]+$/];

/**
 * The path as the upstream will route it: the proxy resolves the URL (dot
 * segments, backslashes) and the upstream's router decodes it, so
 * `/api/v1/data/x/../%64atasets/` must count as an upload like `/api/v1/data/datasets`.
 */
function routedPath(url: string): string {
  let path: string;
  try {
    path = new URL(url, 'http://gateway.invalid').pathname;
  } catch {
    path = url.split(/[?#]/, 1)[0] ?? url;
  }
  try {
    path = decodeURIComponent(path);
  } catch {
    // A malformed escape is routed as written; classify it as written too.
  }
  path = path.replace(/\/{2,}/g, '/');
  return path.length > 1 ? path.replace(/\/$/, '') : path;
}

/** The budget a request draws on, or `undefined` for operational routes that are never limited. */
export function budgetFor(method: string, url: string): Budget | undefined {
  const path = routedPath(url);
  if (NOT_LIMITED.some((pattern) => pattern.test(path))) return undefined;
  const verb = method.toUpperCase();
  if (verb === 'POST' && LOGIN.some((pattern) => pattern.test(path))) return 'login';
  if (verb === 'POST' && EXPENSIVE_POSTS.some((pattern) => pattern.test(path))) return 'expensive';
  // HEAD runs the GET handler upstream, so it renders just the same.
  if ((verb === 'GET' || verb === 'HEAD') && EXPENSIVE_READS.some((pattern) => pattern.test(path)))
    return 'expensive';
  return 'default';
}

/** Whose count a request adds to, and how many calls that count allows per window. */
function counterFor(budget: Budget, request: FastifyRequest, config: RateLimitConfig) {
  const { principal } = request;
  // Sign-in attempts come before any credentials, so they are counted per address whoever claims to call.
  if (budget === 'login') return { key: `login:ip:${request.ip}`, limit: config.rateLimitLogin };
  if (!principal) {
    // Counted per address, so an anonymous caller never gets more than a signed-in one would.
    const limit =
      budget === 'expensive'
        ? Math.min(config.rateLimitExpensive, config.rateLimitAnonymous)
        : config.rateLimitAnonymous;
    return { key: `${budget}:ip:${request.ip}`, limit };
  }
  const subject =
    principal.kind === 'api_key' && principal.apiKeyId
      ? `key:${principal.apiKeyId}`
      : `user:${principal.userId}`;
  const limit = budget === 'expensive' ? config.rateLimitExpensive : config.rateLimitDefault;
  return { key: `${budget}:${subject}`, limit };
}

const WARN_EVERY_MS = 10_000;

/**
 * Counts every store failure, but warns at most once per 10 s: when Redis is
 * down every request fails, and one line per request would bury the cause.
 */
function storeFailureReporter(logger: Logger, failOpen: boolean, errors: Counter<'outcome'>) {
  const outcome = failOpen ? 'allowed' : 'refused';
  const consequence = failOpen
    ? 'requests are let through unlimited (RATE_LIMIT_FAIL_OPEN=true)'
    : 'requests are refused with 503 (RATE_LIMIT_FAIL_OPEN=false)';
  let lastWarnAt = Number.NEGATIVE_INFINITY;
  let unreported = 0;
  let failing = false;
  return {
    failed: (error: unknown): void => {
      errors.inc({ outcome });
      failing = true;
      const now = Date.now();
      if (now - lastWarnAt < WARN_EVERY_MS) {
        unreported += 1;
        return;
      }
      const reason = error instanceof Error ? error.message : String(error);
      logger.warn(
        { err: reason, outcome, failures_since_last_warning: unreported },
        `rate-limit store unavailable: ${consequence}`,
      );
      lastWarnAt = now;
      unreported = 0;
    },
    answered: (): void => {
      if (!failing) return;
      failing = false;
      logger.info('rate-limit store answers again: rate limits apply');
    },
  };
}

export interface RateLimitOptions {
  /** Shared by every gateway instance (Redis), or in memory in embedded mode. */
  store: RateLimitStore;
  config: RateLimitConfig;
  /** The gateway's registry: the rate-limit counters are added to it. */
  metrics: ServiceMetrics;
  logger: Logger;
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Counts each request against its budget and refuses it with 429 once the
 * window's allowance is spent. Register it after authentication's own
 * `onRequest` hook: hooks run in the order they were added, and this one reads `request.principal`.
 */
export function registerRateLimits(app: App, options: RateLimitOptions): void {
  const { store, config } = options;
  const refused = new Counter({
    name: 'gateway_rate_limited_total',
    help: 'Requests refused with 429 because their budget was spent, by budget.',
    labelNames: ['budget'] as const,
    registers: [options.metrics.registry],
  });
  const storeErrors = new Counter({
    name: 'gateway_rate_limit_store_errors_total',
    help: 'Requests whose rate-limit count failed (store unreachable), by what happened to them.',
    labelNames: ['outcome'] as const,
    registers: [options.metrics.registry],
  });
  const report = storeFailureReporter(options.logger, config.rateLimitFailOpen, storeErrors);

  app.addHook('onRequest', async (request, reply) => {
    const budget = budgetFor(request.method, request.url);
    if (!budget) return;
    const { key, limit } = counterFor(budget, request, config);
    let hit: RateLimitHit;
    try {
      hit = await store.hit(key, config.rateLimitWindowMs);
    } catch (error) {
      report.failed(error);
      if (config.rateLimitFailOpen) return;
      throw new AppError('unavailable', 'Rate limiting is unavailable, so requests are refused for now.', {
        headers: { 'retry-after': '5' },
      });
    }
    report.answered();

    const reset = seconds(hit.resetMs);
    void reply.headers({
      'ratelimit-limit': String(limit),
      'ratelimit-remaining': String(Math.max(0, limit - hit.count)),
      'ratelimit-reset': String(reset),
    });
    if (hit.count <= limit) return;
    refused.inc({ budget });
    throw new AppError(
      'rate_limited',
      `Too many requests: the ${budget} budget allows ${limit} calls per ${seconds(config.rateLimitWindowMs)} s. Retry in ${reset} s.`,
      { headers: { 'retry-after': String(reset) }, extensions: { budget } },
    );
  });
}
