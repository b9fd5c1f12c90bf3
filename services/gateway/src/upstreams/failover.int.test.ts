import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../../../test/gateway.ts';
import { testEnv } from '../../../../test/helpers.ts';
import { freePort, spawnTs, waitForStatus, type Spawned } from '../../../../test/processes.ts';

interface Answer {
  method: 'GET' | 'POST';
  status: number;
  detail?: string;
}

/**
 * Keeps `workers` clients calling until stopped, GETs and small JSON POSTs by turns; returns every
 * answer: its method, status and, for a problem, its detail.
 */
function load(url: string, token: string, workers: number) {
  const answers: Answer[] = [];
  let running = true;
  let calls = 0;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const post = calls++ % 2 === 1;
      const response = await fetch(url, {
        method: post ? 'POST' : 'GET',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: post ? JSON.stringify({ probe: calls }) : null,
      });
      const body = (await response.json()) as { detail?: string };
      answers.push({ method: post ? 'POST' : 'GET', status: response.status, detail: body.detail });
    }
  });
  return {
    answers,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('two instances of a service behind the gateway', () => {
  const instances: Spawned[] = [];
  const ports: number[] = [];
  let gw: TestGateway;
  let token: string;

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const spawned = spawnTs('packages/cli/src/main.ts', ['serve', 'data-service'], {
        ...testEnv(),
        PORT: String(port),
      });
      instances.push(spawned);
      ports.push(port);
    }
    await Promise.all(
      ports.map((port, i) => waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200, instances[i])),
    );
    gw = await startTestGateway({
      DATA_SERVICE_URL: ports.map((port) => `http://127.0.0.1:${port}`).join(','),
      UPSTREAM_HEALTH_INTERVAL_MS: '200',
      RATE_LIMIT_DEFAULT: '100000',
    });
    token = await gw.login(await gw.createUser('editor'));
  });
  afterAll(async () => {
    for (const instance of instances) instance.child.kill('SIGKILL');
    await gw.close();
  });

  it('spreads calls over both, fails no GET and no call it could repeat when one is killed, and answers 503 within a second when all are', async () => {
    const url = `${gw.url}/api/v1/data/ping`;
    const traffic = load(url, token, 4);
    await new Promise((resolve) => setTimeout(resolve, 800));
    instances[0]!.child.kill('SIGKILL');
    await instances[0]!.exited;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await traffic.stop();

    // The data-service answers 404 for /ping, GET or POST: any other status is a failed request.
    // A GET cut off by the kill is repeated on the other instance, so none fails. A POST the dead
    // instance may already have acted on is never repeated (RFC 9110 §9.2.2): it is answered 503
    // naming the broken connection. Only calls in flight at the kill can be cut off, one per client.
    expect(traffic.answers.length).toBeGreaterThan(50);
    const failed = traffic.answers.filter((answer) => answer.status !== 404);
    expect(failed.filter((answer) => answer.method === 'GET')).toEqual([]);
    expect(failed.length).toBeLessThanOrEqual(4);
    for (const answer of failed) {
      expect(answer).toMatchObject({ method: 'POST', status: 503 });
      expect(answer.detail).toMatch(/did not answer \((ECONNRESET|UND_ERR_SOCKET|EPIPE)\)/);
    }
    const services = await fetch(`${gw.url}/api/v1/services`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const data = (
      (await services.json()) as { services: { name: string; instances: { url: string; state: string }[] }[] }
    ).services.find((s) => s.name === 'data-service');
    expect(data?.instances.map((i) => i.state).sort()).toEqual(['healthy', 'unhealthy']);

    instances[1]!.child.kill('SIGKILL');
    await instances[1]!.exited;
    const started = performance.now();
    const answer = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(answer.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
  });
});
