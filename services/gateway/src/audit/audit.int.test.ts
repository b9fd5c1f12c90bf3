import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AppError,
  createServer,
  createServiceMetrics,
  migrate,
  type App,
  type Database,
  type Principal,
  type Role,
} from '@datalab/platform';
import { silentLogger, testDatabase, uniqueName } from '../../../../test/helpers.ts';
import { registerAuditHook, RESOURCE_ID_HEADER } from './audit.hook.ts';
import type { AuditEventRow } from './audit.repository.ts';
import { auditRoutes } from './audit.routes.ts';
import type { AuditPage } from './audit.schemas.ts';
import { createAuditLog, type AuditLog } from './audit.service.ts';

const GATEWAY_MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

/** A request id the server keeps (8-128 of [A-Za-z0-9._:-]), unique to this call. */
const newRequestId = (): string => `audit-${randomUUID()}`;

function somebody(role: Role, throughApiKey = false): Principal {
  const userId = randomUUID();
  const email = `${uniqueName('audit')}@example.test`;
  return throughApiKey
    ? { kind: 'api_key', userId, email, role, apiKeyId: randomUUID() }
    : { kind: 'user', userId, email, role };
}

async function buildGateway(auditLog: AuditLog): Promise<App> {
  const app = await createServer({
    service: 'api-gateway',
    version: 'test',
    instanceId: uniqueName('audit-test'),
    description: 'audit test',
    logger: silentLogger,
    metrics: createServiceMetrics('api-gateway'),
    dependencies: [],
    bodyLimit: 1024,
  });
  // Stands in for the gateway's authentication: the test names the caller in a header; a bad token is refused.
  app.addHook('onRequest', async (request) => {
    if (request.headers.authorization === 'Bearer wrong') throw new AppError('unauthorized', 'Invalid token');
    const caller = request.headers['x-test-principal'];
    if (typeof caller === 'string') request.principal = JSON.parse(caller) as Principal;
  });
  // Stands in for the rate limiter.
  app.addHook('onRequest', async (request) => {
    if (request.headers['x-test-over-limit']) throw new AppError('rate_limited', 'Too many requests');
  });
  registerAuditHook(app, auditLog);
  auditRoutes(app, auditLog);
  app.get('/api/v1/viz/charts/:id', async (request) => request.params);
  // Stands in for the proxy's catch-all; an upstream may name the resource it created.
  app.all('/api/v1/data/*', async (request, reply) => {
    const created = request.headers['x-test-created'];
    if (typeof created === 'string') void reply.header(RESOURCE_ID_HEADER, created);
    return reply.code(201).send({});
  });
  return app;
}

describe('the audit log of the gateway', () => {
  let db: Database;
  let auditLog: AuditLog;
  let app: App;
  const admin = somebody('admin');
  // Every call this file makes, so the last test can show each one left its row.
  const made: { url: string; requestId: string; status: number }[] = [];

  beforeAll(async () => {
    db = await testDatabase();
    await migrate(db.pool, { schema: 'auth', directory: GATEWAY_MIGRATIONS, logger: silentLogger });
    auditLog = createAuditLog({
      pool: db.pool,
      logger: silentLogger,
      metrics: createServiceMetrics('api-gateway'),
      flushIntervalMs: 50,
      maxBatch: 500,
      maxBuffer: 10_000,
      retentionDays: 0,
    });
    app = await buildGateway(auditLog);
  });
  afterAll(async () => {
    await app.close();
    await auditLog.close();
    await db.close();
  });

  async function call(
    url: string,
    options: { as?: Principal; method?: 'GET' | 'POST'; headers?: object } = {},
  ) {
    const requestId = newRequestId();
    const headers: Record<string, string> = { 'x-request-id': requestId, ...options.headers };
    if (options.as) headers['x-test-principal'] = JSON.stringify(options.as);
    const response = await app.inject({ method: options.method ?? 'GET', url, headers });
    made.push({ url, requestId, status: response.statusCode });
    return { requestId, status: response.statusCode, body: response.body };
  }

  async function rowsOf(requestIds: string[]): Promise<Map<string, AuditEventRow>> {
    await auditLog.flush();
    const result = await db.pool.query<AuditEventRow>(
      'SELECT *, host(ip) AS ip FROM audit.events WHERE request_id = ANY($1)',
      [requestIds],
    );
    return new Map(result.rows.map((row) => [row.request_id!, row]));
  }

  async function readAudit(query: string, as: Principal | null = admin) {
    const response = await call(`/api/v1/admin/audit?${query}`, as ? { as } : {});
    return { status: response.status, page: JSON.parse(response.body) as AuditPage };
  }

  it('records each call with its caller, route, path, status, latency and resource, refused ones included', async () => {
    const editor = somebody('editor', true);
    const chart = randomUUID();
    const dataset = randomUUID();
    const calls = {
      chart: await call(`/api/v1/viz/charts/${chart}?width=300`, { as: editor }),
      proxied: await call('/api/v1/data/datasets?dry_run=1', {
        as: editor,
        method: 'POST',
        headers: { 'x-test-created': dataset },
      }),
      badToken: await call(`/api/v1/viz/charts/${chart}`, { headers: { authorization: 'Bearer wrong' } }),
      overLimit: await call(`/api/v1/viz/charts/${chart}`, {
        as: editor,
        headers: { 'x-test-over-limit': '1' },
      }),
      unknown: await call('/api/v1/nowhere?token=secret', { as: editor }),
      forbidden: await call('/api/v1/admin/audit', { as: editor }),
    };
    expect(Object.values(calls).map((c) => c.status)).toEqual([200, 201, 401, 429, 404, 403]);

    const rows = await rowsOf(Object.values(calls).map((c) => c.requestId));

    expect(rows.size).toBe(6);
    const editorColumns = {
      principal_user_id: editor.userId,
      principal_kind: 'api_key',
      api_key_id: editor.apiKeyId,
    };
    expect(rows.get(calls.chart.requestId)).toMatchObject({
      kind: 'request',
      action: 'http.request',
      ...editorColumns,
      ip: '127.0.0.1',
      method: 'GET',
      route: '/api/v1/viz/charts/:id',
      path: `/api/v1/viz/charts/${chart}`,
      status: 200,
      resource_id: chart,
    });
    expect(rows.get(calls.proxied.requestId)).toMatchObject({
      ...editorColumns,
      method: 'POST',
      route: '/api/v1/data/datasets',
      path: '/api/v1/data/datasets',
      status: 201,
      resource_id: dataset,
    });
    expect(rows.get(calls.badToken.requestId)).toMatchObject({
      principal_user_id: null,
      status: 401,
      resource_id: chart,
    });
    expect(rows.get(calls.overLimit.requestId)).toMatchObject({ ...editorColumns, status: 429 });
    expect(rows.get(calls.unknown.requestId)).toMatchObject({ route: '/api/v1/nowhere', status: 404 });
    expect(rows.get(calls.forbidden.requestId)).toMatchObject({ route: '/api/v1/admin/audit', status: 403 });
    for (const row of rows.values()) {
      expect(row.latency_ms).toBeGreaterThan(0);
      expect(Date.now() - row.at.getTime()).toBeLessThan(60_000);
    }
  });

  it('leaves out health checks, metrics scrapes and the docs UI’s static files', async () => {
    const calls = [await call('/health/live'), await call('/metrics'), await call('/docs/static/index.css')];

    expect((await rowsOf(calls.map((c) => c.requestId))).size).toBe(0);
  });

  it('writes a security event at once, without waiting for a flush', async () => {
    const actor = somebody('admin');
    const subject = randomUUID();
    const requestId = newRequestId();

    await auditLog.recordSecurityEvent({
      action: 'user.role_changed',
      principal: actor,
      subjectUserId: subject,
      ip: '203.0.113.7',
      requestId,
      detail: { from: 'viewer', to: 'editor' },
    });

    const { rows } = await db.pool.query<AuditEventRow>(
      'SELECT *, host(ip) AS ip FROM audit.events WHERE request_id = $1',
      [requestId],
    );
    expect(rows).toEqual([
      expect.objectContaining({
        kind: 'security',
        action: 'user.role_changed',
        principal_user_id: actor.userId,
        principal_kind: 'user',
        resource_id: subject,
        ip: '203.0.113.7',
        status: null,
        detail: { from: 'viewer', to: 'editor' },
      }),
    ]);
  });

  it('shows admins the log newest first, one page at a time', async () => {
    const actor = somebody('editor');
    const actions = [
      'login.succeeded',
      'api_key.created',
      'api_key.revoked',
      'password.changed',
      'logout',
    ] as const;
    for (const action of actions) await auditLog.recordSecurityEvent({ action, principal: actor });

    const seen: string[] = [];
    const ids: number[] = [];
    let query = `user_id=${actor.userId}&limit=2`;
    for (let page = 0; page < 3; page++) {
      const { status, page: body } = await readAudit(query);
      expect(status).toBe(200);
      seen.push(...body.events.map((e) => e.action));
      ids.push(...body.events.map((e) => e.id));
      expect(body.next_before === null).toBe(page === 2);
      query = `user_id=${actor.userId}&limit=2&before=${body.next_before}`;
    }

    expect(seen).toEqual([...actions].reverse());
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });

  it('filters by time, caller, kind, action, method, status, route prefix and request id', async () => {
    const editor = somebody('editor');
    const ok = await call(`/api/v1/viz/charts/${randomUUID()}`, { as: editor });
    const missing = await call('/api/v1/data_sets/x', { as: editor });
    const posted = await call('/api/v1/data/datasets', { as: editor, method: 'POST' });
    await auditLog.recordSecurityEvent({ action: 'login.failed', principal: editor, detail: { email: 'x' } });
    await auditLog.flush();
    const requestIdsOf = async (filters: string) =>
      (await readAudit(`user_id=${editor.userId}&${filters}`)).page.events.map((e) => e.request_id);

    expect(await requestIdsOf('kind=request')).toEqual([posted, missing, ok].map((c) => c.requestId));
    expect(await requestIdsOf('kind=security&action=login.failed')).toEqual([null]);
    expect(await requestIdsOf('status=404')).toEqual([missing.requestId]);
    expect(await requestIdsOf('method=post')).toEqual([posted.requestId]);
    expect(await requestIdsOf('route_prefix=/api/v1/data/')).toEqual([posted.requestId]);
    // `_` is a LIKE wildcard; a prefix is matched literally.
    expect(await requestIdsOf('route_prefix=/api/v1/data_')).toEqual([missing.requestId]);
    expect(await requestIdsOf(`request_id=${ok.requestId}`)).toEqual([ok.requestId]);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect(await requestIdsOf(`from=${future}`)).toEqual([]);
    expect(await requestIdsOf(`to=${future}&kind=request`)).toHaveLength(3);
  });

  it('refuses the log to non-admins with 403, to anonymous callers with 401, and a reversed range with 400', async () => {
    expect((await readAudit('limit=1', somebody('editor'))).status).toBe(403);
    expect((await readAudit('limit=1', null)).status).toBe(401);
    const reversed = await readAudit('from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z');
    expect(reversed.status).toBe(400);
    expect((await readAudit('limit=501')).status).toBe(400);
  });

  it('has a row for every call these tests made, refused ones included, with the status it answered', async () => {
    const audited = made.filter((c) => !/^\/(health|metrics|docs\/static)/.test(c.url));
    const rows = await rowsOf(audited.map((c) => c.requestId));

    expect(audited.length).toBeGreaterThan(20);
    expect(audited.filter((c) => c.status >= 400).length).toBeGreaterThan(5);
    for (const c of audited) expect(rows.get(c.requestId)?.status, c.url).toBe(c.status);
  });
});
