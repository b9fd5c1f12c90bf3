import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import {
  PROBLEM_CONTENT_TYPE,
  connectRedis,
  createLogger,
  createMemoryRateLimitStore,
  createRedisAdapters,
  createServer,
  createServiceMetrics,
  type Adapters,
  type App,
  type Logger,
  type RateLimitStore,
  type Redis,
} from '@datalab/platform';
import { memoryAdapters, silentLogger, uniqueName } from '../../../../test/helpers.ts';
import { startTcpProxy, throughProxy } from '../../../../test/tcp-proxy.ts';
import type { RateLimitConfig } from './rate-limit.config.ts';
import { registerRateLimits } from './rate-limit.ts';

const LIMITS: RateLimitConfig = {
  rateLimitWindowMs: 60_000,
  rateLimitDefault: 3,
  rateLimitAnonymous: 2,
  rateLimitLogin: 2,
  rateLimitExpensive: 2,
  rateLimitFailOpen: true,
};

async function buildGateway(
  store: RateLimitStore,
  overrides: Partial<RateLimitConfig> = {},
  logger: Logger = silentLogger,
): Promise<App> {
  const metrics = createServiceMetrics('api-gateway');
  const app = await createServer({
    service: 'api-gateway',
    version: 'test',
    instanceId: uniqueName('rate-limit-test'),
    description: 'rate limit test',
    logger: silentLogger,
    metrics,
    dependencies: [],
    bodyLimit: 1024,
  });
  // Stands in for the gateway's authentication: the test names the caller in a header.
  app.addHook('onRequest', async (request) => {
    const user = request.headers['x-test-user'];
    const key = request.headers['x-test-key'];
    if (typeof user !== 'string') return;
    const apiKey =
      typeof key === 'string' ? { kind: 'api_key' as const, apiKeyId: key } : { kind: 'user' as const };
    request.principal = { ...apiKey, userId: user, email: `${user}@example.test`, role: 'editor' };
  });
  registerRateLimits(app, {
    store,
    config: { ...LIMITS, ...overrides },
    metrics,
    logger,
    batchBodyLimitBytes: 1024,
  });
  app.get('/api/v1/data/things', async () => ({ things: [] }));
  app.post('/api/v1/compute/jobs', async (_request, reply) => reply.code(202).send({ id: 'job_1' }));
  app.post('/api/v1/auth/login', async () => ({ token: 'signed-in' }));
  app.post('/api/v1/auth/password', async (_request, reply) => reply.code(204).send());
  // Like the proxy: the body is left unparsed, and what reaches the handler is what it forwards.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    scope.post('/api/v1/compute/jobs/batch', async (request, reply) =>
      reply.code(202).send({ forwarded: Buffer.isBuffer(request.body) ? request.body.toString() : null }),
    );
  });
  return app;
}

/** Who calls: a user (through an API key when `key` is set), from an IP address. */
type Caller = { user?: string; key?: string; ip?: string };

function call(app: App, method: 'GET' | 'POST', url: string, caller: Caller = {}, body?: unknown) {
  const headers: Record<string, string> = {};
  if (caller.user) headers['x-test-user'] = caller.user;
  if (caller.key) headers['x-test-key'] = caller.key;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return app.inject({
    method,
    url,
    headers,
    remoteAddress: caller.ip ?? '127.0.0.1',
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

function uniqueIp(): string {
  return `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
}

async function statuses(app: App, times: number, method: 'GET' | 'POST', url: string, caller: Caller) {
  const codes: number[] = [];
  for (let i = 0; i < times; i++) codes.push((await call(app, method, url, caller)).statusCode);
  return codes;
}

/** A counter's value in the app's `/metrics`, for the series whose labels include `label`. */
async function metric(app: App, name: string, label: string): Promise<number> {
  const lines = (await app.inject('/metrics')).body.split('\n');
  const line = lines.find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('rate limits counted in memory', () => {
  let adapters: Adapters;
  let app: App;

  beforeAll(async () => {
    adapters = memoryAdapters();
    app = await buildGateway(adapters.rateLimits);
  });
  afterAll(async () => {
    await app.close();
    await adapters.close();
  });

  it('lets N calls through with a falling RateLimit-Remaining, and answers the N+1th with 429', async () => {
    const user = uniqueName('user');
    for (const remaining of ['2', '1', '0']) {
      const response = await call(app, 'GET', '/api/v1/data/things', { user });
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-limit']).toBe('3');
      expect(response.headers['ratelimit-remaining']).toBe(remaining);
      expect(Number(response.headers['ratelimit-reset'])).toBeGreaterThanOrEqual(1);
    }

    const refused = await call(app, 'GET', '/api/v1/data/things', { user });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers['ratelimit-remaining']).toBe('0');
    expect(refused.json()).toMatchObject({
      type: 'urn:datalab:problem:rate_limited',
      status: 429,
      budget: 'default',
      instance: '/api/v1/data/things',
    });
  });

  it('counts the expensive budget apart: with jobs spent, ordinary calls still pass', async () => {
    const user = uniqueName('user');
    expect(await statuses(app, 3, 'POST', '/api/v1/compute/jobs', { user })).toEqual([202, 202, 429]);
    const ordinary = await call(app, 'GET', '/api/v1/data/things', { user });
    expect(ordinary.statusCode).toBe(200);
    expect(ordinary.headers['ratelimit-remaining']).toBe('2');
  });

  it('gives each user a count of their own', async () => {
    const [first, second] = [uniqueName('user'), uniqueName('user')];
    expect(await statuses(app, 4, 'GET', '/api/v1/data/things', { user: first })).toEqual([
      200, 200, 200, 429,
    ]);
    expect((await call(app, 'GET', '/api/v1/data/things', { user: second })).statusCode).toBe(200);
  });

  it('counts every API key of a user on that user’s one budget, with their token', async () => {
    const user = uniqueName('user');
    await call(app, 'GET', '/api/v1/data/things', { user });
    await call(app, 'GET', '/api/v1/data/things', { user, key: uniqueName('key') });
    const third = await call(app, 'GET', '/api/v1/data/things', { user, key: uniqueName('key') });
    expect(third.headers['ratelimit-remaining']).toBe('0');
    const refused = await call(app, 'GET', '/api/v1/data/things', { user, key: uniqueName('key') });
    expect(refused.statusCode).toBe(429);
  });

  it('charges a job batch one expensive call per job, and forwards its body untouched', async () => {
    const user = uniqueName('user');
    const batch = { jobs: [{ type: 'noop' }, { type: 'noop' }] };
    const accepted = await call(app, 'POST', '/api/v1/compute/jobs/batch', { user }, batch);
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json()).toEqual({ forwarded: JSON.stringify(batch) });
    expect(accepted.headers['ratelimit-remaining']).toBe('0');
    const refused = await call(app, 'POST', '/api/v1/compute/jobs', { user });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ budget: 'expensive', limit: 2 });
  });

  it('refuses, without charging, a batch holding more jobs than the whole budget', async () => {
    const user = uniqueName('user');
    const tooMany = await call(
      app,
      'POST',
      '/api/v1/compute/jobs/batch',
      { user },
      {
        jobs: [{ type: 'a' }, { type: 'b' }, { type: 'c' }],
      },
    );
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json()).toMatchObject({
      limit: 2,
      errors: [{ field: '/body/jobs', message: 'must have at most 2 items' }],
    });
    expect((await call(app, 'POST', '/api/v1/compute/jobs', { user })).headers['ratelimit-remaining']).toBe(
      '0',
    );
  });

  it('refuses a job batch body over its byte limit with 413 naming it', async () => {
    const answer = await call(
      app,
      'POST',
      '/api/v1/compute/jobs/batch',
      { user: uniqueName('user') },
      {
        jobs: [{ type: 'x'.repeat(2000) }],
      },
    );
    expect(answer.statusCode).toBe(413);
    expect(answer.json()).toMatchObject({ limit: 1024 });
  });

  it('counts anonymous calls per IP address, against the smaller anonymous allowance', async () => {
    const ip = uniqueIp();
    const codes = await statuses(app, 3, 'GET', '/api/v1/data/things', { ip });
    expect(codes).toEqual([200, 200, 429]);
    const elsewhere = await call(app, 'GET', '/api/v1/data/things', { ip: uniqueIp() });
    expect(elsewhere.statusCode).toBe(200);
    expect(elsewhere.headers['ratelimit-limit']).toBe('2');
  });

  it('counts sign-in attempts per IP address, whoever the caller claims to be', async () => {
    const ip = uniqueIp();
    expect((await call(app, 'POST', '/api/v1/auth/login', { ip, user: uniqueName('user') })).statusCode).toBe(
      200,
    );
    expect((await call(app, 'POST', '/api/v1/auth/login', { ip, user: uniqueName('user') })).statusCode).toBe(
      200,
    );
    expect((await call(app, 'POST', '/api/v1/auth/login', { ip })).statusCode).toBe(429);
    expect((await call(app, 'POST', '/api/v1/auth/login', { ip: uniqueIp() })).statusCode).toBe(200);
  });

  it('never limits health checks or metrics', async () => {
    const ip = uniqueIp();
    for (const url of ['/health/live', '/health/ready', '/metrics']) {
      for (let i = 0; i < 5; i++) {
        const response = await call(app, 'GET', url, { ip });
        expect(response.statusCode).toBe(200);
        expect(response.headers['ratelimit-limit']).toBeUndefined();
      }
    }
  });

  it('counts each refusal in gateway_rate_limited_total by budget', async () => {
    const before = await metric(app, 'gateway_rate_limited_total', 'budget="expensive"');
    await statuses(app, 4, 'POST', '/api/v1/compute/jobs', { user: uniqueName('user') });
    expect(await metric(app, 'gateway_rate_limited_total', 'budget="expensive"')).toBe(before + 2);
  });

  it('starts a fresh count when the window ends', async () => {
    const short = await buildGateway(createMemoryRateLimitStore(), { rateLimitWindowMs: 1000 });
    const user = uniqueName('user');
    try {
      expect(await statuses(short, 4, 'GET', '/api/v1/data/things', { user })).toEqual([200, 200, 200, 429]);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await call(short, 'GET', '/api/v1/data/things', { user })).statusCode).toBe(200);
    } finally {
      await short.close();
    }
  });
});

/** A logger whose lines the test reads back. */
function capturedLog() {
  const lines: { level: string; msg: string }[] = [];
  const write = (line: string): void => void lines.push(JSON.parse(line) as { level: string; msg: string });
  return { lines, logger: createLogger({ level: 'info', destination: { write } }) };
}

/** Redis adapters of their own, as a separate gateway process would have. */
async function redisAdaptersAt(url: string, prefix: string): Promise<{ adapters: Adapters; client: Redis }> {
  const connection = await connectRedis({
    url,
    sentinels: [],
    sentinelName: 'mymaster',
    connectTimeoutMs: 1000,
    logger: silentLogger,
  });
  const adapters = createRedisAdapters(connection, {
    cacheMaxBytes: 1 << 20,
    registryTtlMs: 1000,
    redisPrefix: prefix,
  });
  return { adapters, client: connection.client };
}

describe.skipIf(!inject('redisUrl'))('rate limits counted in Redis', () => {
  it('is one count for two gateways on the same Redis: 3 calls on one, the 4th on the other is refused', async () => {
    const prefix = `${uniqueName('test')}:`;
    const one = await redisAdaptersAt(inject('redisUrl')!, prefix);
    const other = await redisAdaptersAt(inject('redisUrl')!, prefix);
    const [first, second] = [
      await buildGateway(one.adapters.rateLimits),
      await buildGateway(other.adapters.rateLimits),
    ];
    try {
      const user = uniqueName('user');
      expect(await statuses(first, 3, 'GET', '/api/v1/data/things', { user })).toEqual([200, 200, 200]);
      const fourth = await call(second, 'GET', '/api/v1/data/things', { user });
      expect(fourth.statusCode).toBe(429);
      expect(Number(fourth.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    } finally {
      await Promise.all([first.close(), second.close()]);
      await Promise.all([one.adapters.close(), other.adapters.close()]);
    }
  });

  describe.each([
    { failOpen: true, status: 200, outcome: 'allowed' },
    { failOpen: false, status: 503, outcome: 'refused' },
  ])(
    'with RATE_LIMIT_FAIL_OPEN=$failOpen, when Redis becomes unreachable',
    ({ failOpen, status, outcome }) => {
      it(`answers ${status}, counts the failures as ${outcome}, warns once, and limits again once Redis is back`, async () => {
        const url = new URL(inject('redisUrl')!);
        const proxy = await startTcpProxy(url.hostname, Number(url.port || 6379));
        const redis = await redisAdaptersAt(throughProxy(url.toString(), proxy), `${uniqueName('test')}:`);
        const log = capturedLog();
        const app = await buildGateway(
          redis.adapters.rateLimits,
          { rateLimitFailOpen: failOpen },
          log.logger,
        );
        const user = uniqueName('user');
        const things = () => call(app, 'GET', '/api/v1/data/things', { user });
        const failures = () => metric(app, 'gateway_rate_limit_store_errors_total', `outcome="${outcome}"`);
        try {
          expect((await things()).headers['ratelimit-limit']).toBe('3');

          proxy.cut();
          await vi.waitFor(() => expect(redis.client.status).not.toBe('ready'), {
            timeout: 3000,
            interval: 10,
          });
          for (let i = 0; i < 5; i++) {
            const response = await things();
            expect(response.statusCode).toBe(status);
            expect(response.headers['ratelimit-limit']).toBeUndefined();
            if (status === 503)
              expect(response.json()).toMatchObject({ type: 'urn:datalab:problem:unavailable' });
          }
          expect(await failures()).toBe(5);
          for (const url of ['/api/v1/auth/login', '/api/v1/auth/password']) {
            const credentials = await call(app, 'POST', url, { user });
            expect(credentials.statusCode).toBe(503);
            expect(credentials.headers['retry-after']).toBe('5');
            expect(credentials.json()).toMatchObject({ type: 'urn:datalab:problem:unavailable' });
          }
          const warnings = log.lines.filter((line) => line.level === 'warn');
          expect(warnings).toHaveLength(1);
          expect(warnings[0]).toMatchObject({ outcome });
          const refusedCredentials = await metric(
            app,
            'gateway_rate_limit_store_errors_total',
            'outcome="refused"',
          );
          expect(refusedCredentials).toBe(failOpen ? 2 : 7);
          expect(warnings[0]?.msg).toContain(failOpen ? 'let through unlimited' : 'refused with 503');

          proxy.restore();
          const limitedAgain = async () => expect((await things()).headers['ratelimit-limit']).toBe('3');
          await vi.waitFor(limitedAgain, { timeout: 5000, interval: 100 });
          expect(log.lines.at(-1)?.msg).toBe('rate-limit store answers again: rate limits apply');
        } finally {
          proxy.restore();
          await app.close();
          await redis.adapters.close();
          await proxy.close();
        }
      });
    },
  );
});
