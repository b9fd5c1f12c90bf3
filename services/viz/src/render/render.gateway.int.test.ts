import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Platform, type RunningService } from '@datalab/platform';
import { dataService } from '@datalab/data-service';
import { startTestGateway, type TestGateway } from '../../../../test/gateway.ts';
import { testEnv, testPlatform, uniqueName } from '../../../../test/helpers.ts';
import { uploadForm } from '../../../../test/internal.ts';
import { vizService } from '../definition.ts';

let platform: Platform;
let data: RunningService;
let viz: RunningService;
let gw: TestGateway;
let owner: string;
let viewer: string;
const made: {
  privateData: string;
  sharedData: string;
  privateChart: string;
  sharedChart: string;
  leakyChart: string;
  dashboard: string;
} = {
  privateData: '',
  sharedData: '',
  privateChart: '',
  sharedChart: '',
  leakyChart: '',
  dashboard: '',
};

async function api(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${gw.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined || body instanceof FormData ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: body instanceof FormData ? body : JSON.stringify(body) }),
  });
  return {
    status: response.status,
    headers: response.headers,
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

const json = (answer: { bytes: Buffer }) =>
  JSON.parse(answer.bytes.toString('utf8')) as Record<string, unknown>;

async function upload(visibility: 'private' | 'shared', csv: string): Promise<string> {
  const name = uniqueName('rain');
  const answer = await api(
    owner,
    'POST',
    '/api/v1/data/datasets',
    uploadForm(csv, `${name}.csv`, { name, visibility }),
  );
  expect(answer.status).toBe(201);
  return (json(answer).dataset as { name: string }).name;
}

const barOf = (dataset: string) => ({
  data: { dataset },
  mark: 'bar',
  encoding: { x: { field: 'city', type: 'nominal' }, y: { field: 'rain', type: 'quantitative' } },
});

async function saveChart(visibility: 'private' | 'shared', dataset: string): Promise<string> {
  const answer = await api(owner, 'POST', '/api/v1/viz/charts', {
    title: uniqueName('chart'),
    visibility,
    spec: barOf(dataset),
  });
  expect(answer.status).toBe(201);
  return json(answer).id as string;
}

beforeAll(async () => {
  platform = await testPlatform();
  data = await startService(dataService, platform, { env: testEnv(), port: 0 });
  viz = await startService(vizService, platform, {
    env: testEnv({ VIZ_DATA_SERVICE_URL: data.url }),
    port: 0,
  });
  gw = await startTestGateway(
    {
      DATA_SERVICE_URL: data.url,
      VIZ_SERVICE_URL: viz.url,
      // A probe times out after min(interval, 2 s): 1 s keeps a busy CI machine's stalls from taking an upstream out.
      UPSTREAM_HEALTH_INTERVAL_MS: '1000',
    },
    platform,
  );
  owner = await gw.login(await gw.createUser('editor'));
  viewer = await gw.login(await gw.createUser('viewer'));
  made.privateData = await upload('private', 'city,rain\nSecretville,4242\n');
  made.sharedData = await upload('shared', 'city,rain\nLyon,831\nBrest,1210\n');
  made.privateChart = await saveChart('private', made.sharedData);
  made.sharedChart = await saveChart('shared', made.sharedData);
  made.leakyChart = await saveChart('shared', made.privateData);
  const dashboard = await api(owner, 'POST', '/api/v1/viz/dashboards', {
    title: 'Rain',
    visibility: 'shared',
    layout: {
      columns: 12,
      row_height: 60,
      items: [
        { type: 'text', text: 'Rain per city, from the shared dataset.', x: 0, y: 0, w: 12, h: 1 },
        { type: 'chart', chart_id: made.sharedChart, x: 0, y: 1, w: 6, h: 4 },
        { type: 'chart', chart_id: made.leakyChart, x: 6, y: 1, w: 6, h: 4 },
        { type: 'chart', chart_id: made.privateChart, x: 0, y: 5, w: 12, h: 4 },
      ],
    },
  });
  expect(dashboard.status).toBe(201);
  made.dashboard = json(dashboard).id as string;
});
afterAll(async () => {
  await gw.close();
  await viz.close();
  await data.close();
  await platform.close();
});

describe('rendering through the gateway, as a viewer', () => {
  it("cannot render another user's private chart, even once its owner's render is cached (404)", async () => {
    expect((await api(owner, 'GET', `/api/v1/viz/charts/${made.privateChart}/render.png`)).status).toBe(200);
    const answer = await api(viewer, 'GET', `/api/v1/viz/charts/${made.privateChart}/render.png`);
    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
  });

  it("cannot render a spec reading another user's private dataset: 404 naming the source", async () => {
    expect(
      (await api(owner, 'POST', '/api/v1/viz/render?format=svg', { spec: barOf(made.privateData) })).status,
    ).toBe(200);
    const answer = await api(viewer, 'POST', '/api/v1/viz/render?format=svg', {
      spec: barOf(made.privateData),
    });
    expect(answer.status).toBe(404);
    expect((json(answer).errors as { field: string }[]).map((e) => e.field)).toEqual([
      '/body/spec/data/dataset',
    ]);
    const sql = await api(viewer, 'POST', '/api/v1/viz/render?format=svg', {
      spec: { ...barOf('x'), data: { sql: `SELECT city, rain FROM ${made.privateData}` } },
    });
    expect(sql.status).toBeGreaterThanOrEqual(400);
    expect(sql.bytes.toString('utf8')).not.toContain('Secretville');
  });

  it("cannot see a private dataset's rows through a shared chart built on it (404)", async () => {
    const answer = await api(viewer, 'GET', `/api/v1/viz/charts/${made.leakyChart}/render.svg`);
    expect(answer.status).toBe(404);
    expect(answer.bytes.toString('utf8')).not.toContain('Secretville');
  });

  it('renders a shared chart of shared data, and gets 304 for its ETag', async () => {
    const answer = await api(
      viewer,
      'GET',
      `/api/v1/viz/charts/${made.sharedChart}/render.png?width=300&height=200&scale=2`,
    );
    expect(answer.status).toBe(200);
    expect(await sharp(answer.bytes).metadata()).toMatchObject({ format: 'png', width: 600, height: 400 });
    const again = await api(
      viewer,
      'GET',
      `/api/v1/viz/charts/${made.sharedChart}/render.png?width=300&height=200&scale=2`,
      undefined,
      {
        'if-none-match': answer.headers.get('etag')!,
      },
    );
    expect(again.status).toBe(304);
  });

  it('renders a shared dashboard with the charts it may not read shown as unavailable', async () => {
    const svg = await api(viewer, 'GET', `/api/v1/viz/dashboards/${made.dashboard}/render.svg`);
    expect(svg.status).toBe(200);
    const text = svg.bytes.toString('utf8');
    expect(text).toContain('Rain per city');
    expect(text).toContain('Brest');
    expect(text.match(/Chart unavailable/g)).toHaveLength(2);
    expect(text).not.toContain('Secretville');
    const mine = (
      await api(owner, 'GET', `/api/v1/viz/dashboards/${made.dashboard}/render.svg`)
    ).bytes.toString('utf8');
    expect(mine).toContain('Secretville');

    const png = await api(viewer, 'GET', `/api/v1/viz/dashboards/${made.dashboard}/render.png?width=900`);
    expect(await sharp(png.bytes).metadata()).toMatchObject({ format: 'png', width: 900 });
    const pdf = await api(viewer, 'GET', `/api/v1/viz/dashboards/${made.dashboard}/render.pdf`);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('may not save a dashboard (403), nor read a private one (404)', async () => {
    const layout = { columns: 12, row_height: 60, items: [] };
    expect((await api(viewer, 'POST', '/api/v1/viz/dashboards', { title: 'x', layout })).status).toBe(403);
    const hidden = await api(owner, 'POST', '/api/v1/viz/dashboards', { title: 'mine', layout });
    const id = json(hidden).id as string;
    expect((await api(viewer, 'GET', `/api/v1/viz/dashboards/${id}`)).status).toBe(404);
    expect((await api(viewer, 'GET', `/api/v1/viz/dashboards/${id}/render.png`)).status).toBe(404);
  });
});
