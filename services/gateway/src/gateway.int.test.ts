import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiService } from '@datalab/ai-service';
import { computeService } from '@datalab/compute-service';
import { dataService } from '@datalab/data-service';
import {
  startService,
  type ConfigSchema,
  type Platform,
  type RunningService,
  type ServiceDefinition,
} from '@datalab/platform';
import { startTestGateway, type TestGateway } from '../../../test/gateway.ts';
import { vizService } from '@datalab/viz-service';
import { testEnv, testPlatform } from '../../../test/helpers.ts';

const BEHIND: readonly ServiceDefinition<ConfigSchema>[] = [
  dataService,
  aiService,
  computeService,
  vizService,
];
const PREFIX = {
  'data-service': 'data',
  'ai-service': 'ai',
  'compute-service': 'compute',
  'viz-service': 'viz',
} as const;

function unmatchedCount(metrics: string): number {
  const line = metrics
    .split('\n')
    .find((l) => l.startsWith('http_request_duration_seconds_count') && l.includes('route="unmatched"'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('the gateway in front of the four services', () => {
  let platform: Platform;
  let services: RunningService[];
  let gw: TestGateway;
  let base: string;
  let token: string;
  let adminToken: string;

  beforeAll(async () => {
    platform = await testPlatform();
    const env = testEnv();
    services = await Promise.all(
      BEHIND.map((definition) => startService(definition, platform, { env, port: 0 })),
    );
    const urls = Object.fromEntries(
      services.map((s) => [`${PREFIX[s.name as keyof typeof PREFIX].toUpperCase()}_SERVICE_URL`, s.url]),
    );
    gw = await startTestGateway(urls, platform);
    base = gw.url;
    token = await gw.login(await gw.createUser('editor'));
    adminToken = await gw.login(await gw.createUser('admin'));
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all(services.map((s) => s.close()));
    await platform.close();
  });

  const get = (path: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });

  it('lists four healthy upstreams', async () => {
    const body = (await (await get('/api/v1/services')).json()) as {
      services: { name: string; healthy: boolean }[];
    };
    expect(body.services.map((s) => [s.name, s.healthy])).toEqual(BEHIND.map((d) => [d.name, true]));
  });

  it.each(BEHIND.map((d) => d.name))('reaches %s: the call is answered by that service', async (name) => {
    const service = services.find((s) => s.name === name)!;
    const before = unmatchedCount(await (await fetch(`${service.url}/metrics`)).text());

    const response = await get(`/api/v1/${PREFIX[name as keyof typeof PREFIX]}/not-here`);

    expect(response.status).toBe(404);
    expect(((await response.json()) as { detail: string }).detail).toMatch(
      /^No route for GET \/api\/v1\/\w+\/not-here$/,
    );
    expect(unmatchedCount(await (await fetch(`${service.url}/metrics`)).text())).toBe(before + 1);
  });

  it('serves the aggregated OpenAPI document, naming every service, and the docs UI', async () => {
    const document = (await (await fetch(`${base}/openapi.json`)).json()) as {
      tags: { name: string }[];
      paths: object;
    };
    expect(document.tags.map((t) => t.name)).toEqual(
      expect.arrayContaining(['api-gateway', ...BEHIND.map((d) => d.name)]),
    );
    expect(Object.keys(document.paths)).toContain('/api/v1/services');

    const docs = await fetch(`${base}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
    const served = (await (await fetch(`${base}/docs/json`)).json()) as { info: { title: string } };
    expect(served.info.title).toBe('DataLab API');
  });

  it('finds an instance through the registry that no URL configured', async () => {
    const extra = await startService(vizService, platform, { env: testEnv(), port: 0 });
    try {
      await expect
        .poll(
          async () => {
            // Instance addresses are shown to admins only.
            const listing = await fetch(`${base}/api/v1/services`, {
              headers: { authorization: `Bearer ${adminToken}` },
            });
            const body = (await listing.json()) as {
              services: { name: string; instances: { url: string; source: string; state: string }[] }[];
            };
            return body.services
              .find((s) => s.name === 'viz-service')
              ?.instances.find((i) => i.url === extra.url);
          },
          { timeout: 5000 },
        )
        .toMatchObject({ source: 'registered', state: 'healthy' });
    } finally {
      await extra.close();
    }
  });
});
