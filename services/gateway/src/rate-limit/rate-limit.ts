import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  AppError,
  Counter,
  type App,
  type Logger,
  type RateLimitHit,
  type RateLimitStore,
  type ServiceMetrics,
} from '@datalab/platform';
import { readJobBatch } from './batch-cost.ts';
import type { RateLimitConfig } from './rate-limit.config.ts';
import { storeFailureReporter } from './store-failures.ts';

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

/** Where a password or a refresh token is checked: counted per address, and refused when uncounted. */
const LOGIN = [/^\/api\/v1\/auth\/(login|refresh|password)$/];

/** Many jobs in one call: each item costs as much as one `POST /api/v1/compute/jobs` (batch-cost.ts). */
export const JOB_BATCH = /^\/api\/v1\/compute\/jobs\/batch$/;

const EXPENSIVE_POSTS = [
  /^\/api\/v1\/data\/datasets$/,
  /^\/api\/v1\/data\/datasets\/[^/]+\/versions$/,
  /^\/api\/v1\/compute\/jobs$/,
  JOB_BATCH,
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
export function routedPath(url: string): string {
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
  // Per user, whatever the credential: every API key of a user and their token share one count,
  // so more keys never mean more calls.
  const limit = budget === 'expensive' ? config.rateLimitExpensive : config.rateLimitDefault;
  return { key: `${budget}:user:${principal.userId}`, limit };
}

export interface RateLimitOptions {
  /** Shared by every gateway instance (Redis), or in memory in embedded mode. */
  store: RateLimitStore;
  config: RateLimitConfig;
  /** The gateway's registry: the rate-limit counters are added to it. */
  metrics: ServiceMetrics;
  logger: Logger;
  /** Largest job batch body read to count its items (the services' own JSON body limit). */
  batchBodyLimitBytes: number;
}

/** How long a caller refused because the store is down should wait: Redis failover takes seconds. */
const STORE_DOWN_RETRY_S = 5;

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Counts each request against its budget and refuses it with 429 once the
 * window's allowance is spent. Register it after authentication's own
 * `onRequest` hook: hooks run in the order they were added, and this one reads `request.principal`.
 * A job batch is charged for each of its items once its body is read (a preHandler).
 */
export function registerRateLimits(app: App, options: RateLimitOptions): void {
  const { store, config } = options;
  const refused = new Counter({
    name: 'gateway_rate_limited_total',
    help: 'Requests refused with 429 because their budget was spent, by budget.',
    labelNames: ['budget'] as const,
    registers: [options.metrics.registry],
  });
  const report = storeFailureReporter(options.logger, options.metrics);

  async function charge(request: FastifyRequest, reply: FastifyReply, budget: Budget, cost: number) {
    const { key, limit } = counterFor(budget, request, config);
    let hit: RateLimitHit;
    try {
      hit = await store.hit(key, config.rateLimitWindowMs, cost);
    } catch (error) {
      // Credential checks are never let through uncounted: that would open unlimited guessing.
      const failOpen = config.rateLimitFailOpen && budget !== 'login';
      report.failed(error, failOpen);
      if (failOpen) return;
      throw new AppError(
        'unavailable',
        budget === 'login'
          ? 'Sign-in attempts cannot be counted right now (rate-limit store unavailable), so they are refused for now.'
          : 'Rate limiting is unavailable, so requests are refused for now.',
        { headers: { 'retry-after': String(STORE_DOWN_RETRY_S) } },
      );
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
    const what = cost > 1 ? `This call costs ${cost} (one per job); ` : '';
    throw new AppError(
      'rate_limited',
      `Too many requests: ${what}the ${budget} budget allows ${limit} calls per ${seconds(config.rateLimitWindowMs)} s. Retry in ${reset} s.`,
      { headers: { 'retry-after': String(reset) }, extensions: { budget, limit } },
    );
  }

  app.addHook('onRequest', async (request, reply) => {
    const budget = budgetFor(request.method, request.url);
    if (budget) await charge(request, reply, budget, 1);
  });

  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST' || !JOB_BATCH.test(routedPath(request.url))) return;
    const items = await readJobBatch(request, options.batchBodyLimitBytes);
    // Signed in for sure: access rules refused anonymous job submissions in onRequest.
    const limit = config.rateLimitExpensive;
    if (items > limit) {
      throw new AppError(
        'invalid',
        `This batch holds ${items} jobs, and each costs one call of the expensive budget, which allows ${limit} per ${seconds(config.rateLimitWindowMs)} s: send at most ${limit} jobs per call`,
        {
          errors: [{ field: '/body/jobs', message: `must have at most ${limit} items` }],
          extensions: { budget: 'expensive', limit },
        },
      );
    }
    // The call itself was charged one already, in onRequest.
    if (items > 1) await charge(request, reply, 'expensive', items - 1);
  });
}
