import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loginAt, userFactory } from '../../../test/gateway.ts';
import { uniqueName } from '../../../test/helpers.ts';
import { freePort, spawnTs, waitForStatus, type Spawned } from '../../../test/processes.ts';

describe('datalab serve (distributed mode: each service its own process)', () => {
  const processes: Spawned[] = [];
  let dataPort: number;
  let gatewayPort: number;
  let token: string;
  let adminToken: string;
  const auth = () => ({ authorization: `Bearer ${token}` });

  const redisPrefix = `${uniqueName('serve')}:`;

  function serve(service: string, env: Record<string, string>): Spawned {
    const redisUrl = inject('redisUrl');
    const spawned = spawnTs('packages/cli/src/main.ts', ['serve', service], {
      DATABASE_URL: inject('databaseUrl'),
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
      REDIS_PREFIX: redisPrefix,
      LOG_LEVEL: 'warn',
      UPSTREAM_HEALTH_INTERVAL_MS: '300',
      ...env,
    });
    processes.push(spawned);
    return spawned;
  }

  beforeAll(async () => {
    dataPort = await freePort();
    gatewayPort = await freePort();
    const deadPort = await freePort();
    const data = serve('data-service', { PORT: String(dataPort) });
    await waitForStatus(`http://127.0.0.1:${dataPort}/health/ready`, 200, data);
    const gateway = serve('api-gateway', {
      PORT: String(gatewayPort),
      DATA_SERVICE_URL: `http://127.0.0.1:${dataPort}`,
      // Nothing listens there: these upstreams are down.
      AI_SERVICE_URL: `http://127.0.0.1:${deadPort}`,
      COMPUTE_SERVICE_URL: `http://127.0.0.1:${deadPort}`,
      VIZ_SERVICE_URL: `http://127.0.0.1:${deadPort}`,
    });
    await waitForStatus(`http://127.0.0.1:${gatewayPort}/health/ready`, 200, gateway);
    const users = await userFactory(inject('databaseUrl'));
    token = await loginAt(`http://127.0.0.1:${gatewayPort}`, await users.create('editor'));
    adminToken = await loginAt(`http://127.0.0.1:${gatewayPort}`, await users.create('admin'));
    await users.close();
  });
  afterAll(async () => {
    for (const spawned of processes) spawned.child.kill('SIGTERM');
    await Promise.all(processes.map((spawned) => spawned.exited));
  });

  it('runs the data-service alone, and a gateway started alone reaches it through its configured URL', async () => {
    // Instance addresses are shown to admins only.
    const response = await fetch(`http://127.0.0.1:${gatewayPort}/api/v1/services`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    const { services } = (await response.json()) as {
      services: { name: string; healthy: boolean; instances: { url: string }[] }[];
    };
    const data = services.find((s) => s.name === 'data-service');

    expect(data?.healthy).toBe(true);
    expect(data?.instances.map((i) => i.url)).toContain(`http://127.0.0.1:${dataPort}`);
  });

  it('forwards a call under /api/v1/data to the data-service, with the caller’s request id', async () => {
    const response = await fetch(`http://127.0.0.1:${gatewayPort}/api/v1/data/no-such-thing?x=1`, {
      headers: { 'x-request-id': 'serve-test-request-1', ...auth() },
    });
    const problem = (await response.json()) as { detail: string; request_id: string };

    // The data-service has no such route: its own 404 problem proves the call got there.
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(problem.detail).toBe('No route for GET /api/v1/data/no-such-thing');
    expect(problem.request_id).toBe('serve-test-request-1');
  });

  it('answers 503 problem+json in under a second for a service with no live instance', async () => {
    const started = performance.now();
    const response = await fetch(`http://127.0.0.1:${gatewayPort}/api/v1/ai/models`, { headers: auth() });
    const elapsed = performance.now() - started;

    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(((await response.json()) as { detail: string }).detail).toMatch(/ai-service is unavailable/);
    expect(elapsed).toBeLessThan(1000);
  });
});
