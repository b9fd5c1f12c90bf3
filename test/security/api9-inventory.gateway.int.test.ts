import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../processes.ts';
import { bearer, expectProblem, startStack, type Stack } from './stack.ts';

/**
 * API9:2023 Improper Inventory Management (and API8, public internals). The gateway is the public
 * entry point: what it tells an anonymous caller or a plain user about the deployment — its
 * metrics (every route, upstream and error count), its instance and dependencies, the upstreams'
 * internal addresses and errors — is for operators only. Prometheus reads the metrics on
 * GATEWAY_METRICS_PORT, a port the ingress does not route to.
 */

describe('what the gateway shows about the deployment', () => {
  let stack: Stack;
  let metricsPort: number;
  let viewer: string;
  let admin: string;

  beforeAll(async () => {
    metricsPort = await freePort();
    stack = await startStack({ GATEWAY_METRICS_PORT: String(metricsPort) });
    viewer = (await stack.signedIn('viewer')).token;
    admin = (await stack.signedIn('admin')).token;
  });
  afterAll(() => stack?.close());

  it.each(['/metrics', '/info'])('keeps %s from anonymous callers and non-admins', async (path) => {
    await expectProblem(await fetch(`${stack.url}${path}`), 401);
    await expectProblem(await fetch(`${stack.url}${path}`, { headers: bearer(viewer) }), 403);
    const editor = (await stack.signedIn('editor')).token;
    await expectProblem(await fetch(`${stack.url}${path}`, { headers: bearer(editor) }), 403);
    expect((await fetch(`${stack.url}${path}`, { headers: bearer(admin) })).status).toBe(200);
  });

  it('serves the metrics to Prometheus on GATEWAY_METRICS_PORT, without credentials', async () => {
    const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('gateway_upstream_healthy_instances');
  });

  it('shows upstream addresses, instance ids and errors to admins only', async () => {
    type Listing = { services: { name: string; healthy: boolean; instances: Record<string, unknown>[] }[] };
    const asViewer = (await (
      await fetch(`${stack.url}/api/v1/services`, { headers: bearer(viewer) })
    ).json()) as Listing;
    const asAdmin = (await (
      await fetch(`${stack.url}/api/v1/services`, { headers: bearer(admin) })
    ).json()) as Listing;

    expect(asViewer.services.map((s) => [s.name, s.healthy])).toEqual(
      asAdmin.services.map((s) => [s.name, s.healthy]),
    );
    for (const service of asViewer.services)
      for (const instance of service.instances) {
        expect(instance.state).toBe('healthy');
        expect(Object.keys(instance)).not.toContain('url');
        expect(Object.keys(instance)).not.toContain('instance_id');
        expect(Object.keys(instance)).not.toContain('last_error');
      }
    expect(JSON.stringify(asViewer)).not.toContain('127.0.0.1');
    for (const service of asAdmin.services)
      expect(service.instances[0]?.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
  });

  it('keeps the API description public: it is the documentation of the API, not of the deployment', async () => {
    const response = await fetch(`${stack.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(await response.text()).not.toContain('127.0.0.1');
  });
});
