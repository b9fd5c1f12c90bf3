import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, uniqueName } from '../../../../test/helpers.ts';
import { createServiceMetrics } from '../metrics/metrics.ts';
import { createServer, type App } from '../server/server.ts';
import { AppError, statusByKind, type ErrorKind } from './errors.ts';
import { PROBLEM_CONTENT_TYPE } from './problem.ts';

const SECRET = 'password=hunter2 at db.internal:5432';

async function buildApp(): Promise<App> {
  const app = await createServer({
    service: 'data-service',
    version: 'test',
    instanceId: uniqueName('problem-test'),
    description: 'problem+json test',
    logger: silentLogger,
    metrics: createServiceMetrics('data-service'),
    dependencies: [],
    bodyLimit: 1024,
  });
  app.post(
    '/things',
    { schema: { body: Type.Object({ name: Type.String({ minLength: 1 }), size: Type.Integer() }) } },
    async (request, reply) => reply.code(201).send({ name: request.body.name }),
  );
  app.get('/conflict', async () => {
    throw new AppError('conflict', 'A dataset with this name already exists.', {
      errors: [{ field: '/body/name', message: 'is taken' }],
      extensions: { existing_id: 'ds_1' },
      headers: { 'retry-after': '3' },
    });
  });
  app.get<{ Params: { kind: ErrorKind } }>('/kinds/:kind', async (request) => {
    throw new AppError(request.params.kind, `a ${request.params.kind} problem`);
  });
  app.get('/crash', async () => {
    throw new Error(SECRET);
  });
  app.get('/the/template/:id', async (request) => ({ id: (request.params as { id: string }).id }));
  return app;
}

describe('problem+json errors', () => {
  let app: App;

  beforeAll(async () => {
    app = await buildApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('refuses an invalid body with 400 naming each field at fault', async () => {
    const response = await app.inject({ method: 'POST', url: '/things?x=1', payload: { size: 'big' } });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
    const problem = response.json<{ errors: { field: string; message: string }[] }>();
    expect(problem).toMatchObject({
      type: 'urn:datalab:problem:invalid',
      title: 'Bad Request',
      status: 400,
      instance: '/things',
      request_id: response.headers['x-request-id'],
    });
    const fields = problem.errors.map((error) => error.field);
    expect(fields).toContain('/body/name');
    expect(fields).toContain('/body/size');
  });

  it('accepts a valid body', async () => {
    const name = uniqueName('thing');
    const response = await app.inject({ method: 'POST', url: '/things', payload: { name, size: 3 } });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toEqual({ name });
  });

  it('answers an AppError with its status, message, field errors, extensions and headers', async () => {
    const response = await app.inject('/conflict');
    expect(response.statusCode).toBe(409);
    expect(response.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
    expect(response.headers['retry-after']).toBe('3');
    expect(response.json()).toMatchObject({
      type: 'urn:datalab:problem:conflict',
      title: 'Conflict',
      status: 409,
      detail: 'A dataset with this name already exists.',
      errors: [{ field: '/body/name', message: 'is taken' }],
      existing_id: 'ds_1',
    });
  });

  it.each(Object.entries(statusByKind))('maps the kind %s to status %i', async (kind, status) => {
    const response = await app.inject(`/kinds/${kind}`);
    expect(response.statusCode).toBe(status);
    expect(response.json()).toMatchObject({
      type: `urn:datalab:problem:${kind}`,
      detail: `a ${kind} problem`,
    });
  });

  it('answers an unexpected error with a 500 that keeps its message out of the body', async () => {
    const response = await app.inject('/crash');
    expect(response.statusCode).toBe(500);
    expect(response.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
    expect(response.body).not.toContain('hunter2');
    expect(response.body).not.toContain('db.internal');
    const problem = response.json<{ request_id: string; detail: string }>();
    expect(problem.request_id).toBe(response.headers['x-request-id']);
    expect(problem.detail).toContain('request id');
  });

  it('answers an unknown route with a 404 problem', async () => {
    const response = await app.inject('/no/such/route?q=1');
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
    expect(response.json()).toMatchObject({
      type: 'urn:datalab:problem:not_found',
      status: 404,
      detail: 'No route for GET /no/such/route',
      instance: '/no/such/route',
    });
  });

  it('refuses a body over the limit with a 413 problem', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/things',
      payload: { name: 'x'.repeat(2048), size: 1 },
    });
    expect(response.statusCode).toBe(413);
    expect(response.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
    expect(response.json()).toMatchObject({ type: 'urn:datalab:problem:too_large', status: 413 });
  });

  it('refuses malformed JSON with a 400 problem', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "a",',
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE);
    expect(response.json()).toMatchObject({ type: 'urn:datalab:problem:invalid', status: 400 });
  });
});

describe('request ids', () => {
  let app: App;

  beforeAll(async () => {
    app = await buildApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('echoes a well-formed x-request-id from the caller, also in problems', async () => {
    const id = uniqueName('req-from-caller');
    const response = await app.inject({ url: '/conflict', headers: { 'x-request-id': id } });
    expect(response.headers['x-request-id']).toBe(id);
    expect(response.json()).toMatchObject({ request_id: id });
  });

  it.each([
    ['too short', 'abc'],
    ['unsafe characters', 'id with spaces <script>'],
    ['too long', 'a'.repeat(200)],
  ])('replaces an x-request-id that is %s', async (_why, given) => {
    const response = await app.inject({ url: '/health/live', headers: { 'x-request-id': given } });
    const id = response.headers['x-request-id'];
    expect(id).not.toBe(given);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives every request its own id when the caller sends none', async () => {
    const first = await app.inject('/health/live');
    const second = await app.inject('/health/live');
    expect(first.headers['x-request-id']).toBeTruthy();
    expect(first.headers['x-request-id']).not.toBe(second.headers['x-request-id']);
  });
});

describe('request metrics', () => {
  let app: App;

  beforeAll(async () => {
    app = await buildApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('labels durations with the route template and the service, not the concrete URL', async () => {
    const id = uniqueName('item');
    expect((await app.inject(`/the/template/${id}`)).statusCode).toBe(200);
    expect((await app.inject('/the/template/other')).statusCode).toBe(200);
    await app.inject('/no/such/route');

    const response = await app.inject('/metrics');
    expect(response.statusCode).toBe(200);
    const buckets = response.body
      .split('\n')
      .filter((line) => line.startsWith('http_request_duration_seconds_bucket'));
    const templated = buckets.filter((line) => line.includes('route="/the/template/:id"'));
    expect(templated.length).toBeGreaterThan(0);
    expect(templated.every((line) => line.includes('service="data-service"'))).toBe(true);
    expect(templated.some((line) => line.includes('le="+Inf"') && / 2$/.test(line))).toBe(true);
    expect(response.body).not.toContain(id);
    expect(buckets.some((line) => line.includes('route="unmatched"') && line.includes('status="404"'))).toBe(
      true,
    );
  });
});
