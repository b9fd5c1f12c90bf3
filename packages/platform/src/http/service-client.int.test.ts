import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { uniqueName } from '../../../../test/helpers.ts';
import { AppError } from '../errors/errors.ts';
import { createServiceClient, type ServiceClient, type ServiceClientOptions } from './service-client.ts';

interface Upstream {
  url: string;
  /** Requests seen, as `METHOD /path`. */
  calls: string[];
  close: () => Promise<void>;
}

type Answer = (request: IncomingMessage, response: ServerResponse, call: number) => void;

const started: Upstream[] = [];
const clients: ServiceClient[] = [];

/** A real HTTP server on port 0 that answers the n-th call as `answer` says. */
async function upstream(answer: Answer): Promise<Upstream> {
  const calls: string[] = [];
  const server = createServer((request, response) => {
    calls.push(`${request.method} ${request.url}`);
    request.resume();
    answer(request, response, calls.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const handle: Upstream = {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  started.push(handle);
  return handle;
}

function client(server: Upstream, options: Partial<ServiceClientOptions> = {}): ServiceClient {
  const created = createServiceClient({ name: 'data-service', baseUrl: server.url, ...options });
  clients.push(created);
  return created;
}

function json(response: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  response.writeHead(status, { 'content-type': type }).end(JSON.stringify(body));
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(started.splice(0).map((s) => s.close()));
});

describe('service client', () => {
  it('retries an idempotent GET after a 503 and returns the answer', async () => {
    const name = uniqueName('dataset');
    const server = await upstream((_request, response, call) =>
      call <= 2 ? json(response, 503, { detail: 'warming up' }) : json(response, 200, { name }),
    );
    const response = await client(server).call<{ name: string }>('GET', `/datasets/${name}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ name });
    expect(server.calls).toEqual(Array(3).fill(`GET /datasets/${name}`));
  });

  it('gives up on a GET after its retries and says the upstream is unavailable', async () => {
    const server = await upstream((_request, response) => json(response, 502, {}));
    const error = await failure(client(server, { retries: 1 }).call('GET', '/datasets'));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toBe('data-service answered 502');
    expect(server.calls).toHaveLength(2);
  });

  it('does not retry a POST that got a 503, and says the upstream is unavailable', async () => {
    const server = await upstream((_request, response) => json(response, 503, { detail: 'busy' }));
    const error = await failure(
      client(server).call('POST', '/datasets', { body: { name: uniqueName('ds') } }),
    );
    expect(error.kind).toBe('unavailable');
    expect(server.calls).toEqual(['POST /datasets']);
  });

  it('sends a JSON body and headers, and returns the status and headers of the answer', async () => {
    const name = uniqueName('dataset');
    const server = await upstream((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () =>
        json(response, 201, {
          received: JSON.parse(Buffer.concat(chunks).toString()) as unknown,
          type: request.headers['content-type'],
          requestId: request.headers['x-request-id'],
        }),
      );
    });
    const response = await client(server).call('POST', '/datasets', {
      body: { name },
      headers: { 'x-request-id': 'req-12345678' },
    });
    expect(response.status).toBe(201);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.body).toEqual({
      received: { name },
      type: 'application/json',
      requestId: 'req-12345678',
    });
  });

  it("turns an upstream 404 problem into a not_found error carrying the upstream's detail", async () => {
    const name = uniqueName('dataset');
    const server = await upstream((_request, response) =>
      json(
        response,
        404,
        {
          type: 'urn:datalab:problem:not_found',
          title: 'Not Found',
          status: 404,
          detail: `No dataset named ${name}.`,
          errors: [{ field: '/params/name', message: 'does not exist' }],
        },
        'application/problem+json',
      ),
    );
    const error = await failure(client(server).call('GET', `/datasets/${name}`));
    expect(error.kind).toBe('not_found');
    expect(error.message).toBe(`No dataset named ${name}.`);
    expect(error.errors).toEqual([{ field: '/params/name', message: 'does not exist' }]);
    expect(server.calls).toHaveLength(1);
  });

  it('fails within its timeout, as unavailable, when the upstream never answers', async () => {
    const server = await upstream(() => undefined);
    const started = Date.now();
    const error = await failure(client(server, { timeoutMs: 300, retries: 0 }).call('GET', '/slow'));
    const elapsed = Date.now() - started;
    expect(error.kind).toBe('unavailable');
    expect(error.message).toContain('did not answer');
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1000);
  });

  it('says the upstream is unavailable when nothing listens on its port', async () => {
    const server = await upstream(() => undefined);
    await server.close();
    const error = await failure(client(server, { retries: 0 }).call('GET', '/info'));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('neither retries nor counts against its breaker a call its caller cancelled', async () => {
    const server = await upstream(() => undefined);
    const breaking = client(server, { breaker: { volumeThreshold: 2 } });
    for (let i = 0; i < 3; i++) {
      const error = await failure(breaking.call('GET', '/slow', { signal: AbortSignal.timeout(50) }));
      expect(error.message).toBe('data-service call was cancelled');
    }
    expect(server.calls).toHaveLength(3);
    expect(breaking.state()).toBe('closed');
  });

  it('opens its breaker after repeated failures and then fails fast without calling the upstream', async () => {
    const server = await upstream((_request, response) => json(response, 503, {}));
    const breaking = client(server, { retries: 0, breaker: { volumeThreshold: 3, resetMs: 60_000 } });
    for (let i = 0; i < 3; i++) await failure(breaking.call('GET', '/datasets'));
    expect(breaking.state()).toBe('open');
    expect(server.calls).toHaveLength(3);

    const error = await failure(breaking.call('GET', '/datasets'));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toContain('circuit open');
    expect(server.calls).toHaveLength(3);
  });

  it('closes its breaker again once the upstream recovers after the rest period', async () => {
    let healthy = false;
    const server = await upstream((_request, response) =>
      healthy ? json(response, 200, { ok: true }) : json(response, 503, {}),
    );
    const breaking = client(server, { retries: 0, breaker: { volumeThreshold: 2, resetMs: 300 } });
    for (let i = 0; i < 2; i++) await failure(breaking.call('GET', '/datasets'));
    expect(breaking.state()).toBe('open');

    healthy = true;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(breaking.state()).toBe('half-open');
    expect((await breaking.call('GET', '/datasets')).body).toEqual({ ok: true });
    expect(breaking.state()).toBe('closed');
  });

  it('does not count 4xx answers against the breaker', async () => {
    const server = await upstream((_request, response) => json(response, 409, { detail: 'taken' }));
    const breaking = client(server, { retries: 0, breaker: { volumeThreshold: 2 } });
    for (let i = 0; i < 4; i++)
      expect((await failure(breaking.call('PUT', '/datasets/a'))).kind).toBe('conflict');
    expect(breaking.state()).toBe('closed');
    expect(server.calls).toHaveLength(4);
  });

  it('reads /info as JSON', async () => {
    const info = {
      name: 'data-service',
      version: '1.2.3',
      instance_id: uniqueName('instance'),
      started_at: new Date().toISOString(),
      dependencies: [{ name: 'postgres', status: 'up', latency_ms: 1.5 }],
    };
    const server = await upstream((_request, response) => json(response, 200, info));
    expect(await client(server).info()).toEqual(info);
    expect(server.calls).toEqual(['GET /info']);
  });
});
