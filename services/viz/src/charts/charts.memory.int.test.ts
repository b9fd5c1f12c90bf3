import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Principal, type RunningService } from '@datalab/platform';
import { testDatabase, testEnv } from '../../../../test/helpers.ts';
import { callAs, callJson, person } from '../../../../test/internal.ts';
import { vizService } from '../definition.ts';
import { startVizStack, type VizStack } from '../render/render.test-fixtures.ts';
import type { Chart } from './charts.schemas.ts';

const SPEC = {
  data: { values: [{ city: 'Lyon', rain: 831 }] },
  mark: 'bar',
  encoding: { x: { field: 'city', type: 'nominal' }, y: { field: 'rain', type: 'quantitative' } },
};
/** The announcement must do it: the TTL alone would keep the chart a minute. */
const LONG_TTL = { VIZ_CHART_TTL_MS: '60000' };
const SHORT_TTL_MS = 300;

const renderPath = (id: string) => `/api/v1/viz/charts/${id}/render.svg`;

/** The status `as` gets for the chart's render from `instance`, polled until `expected` or `withinMs`. */
async function statusWithin(
  stack: VizStack,
  instance: RunningService,
  as: Principal,
  id: string,
  expected: number,
  withinMs: number,
): Promise<number> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    const response = await callAs(stack.platform, instance, as, renderPath(id));
    await response.arrayBuffer();
    if (response.status === expected || performance.now() > deadline) return response.status;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('saved charts and dashboards remembered by each viz-service instance', () => {
  let stack: VizStack;
  let other: RunningService;
  let shortLived: RunningService;
  const owner = person('editor');
  const viewer = person('viewer');

  beforeAll(async () => {
    stack = await startVizStack(LONG_TTL);
    // Two more instances of the same service: their own memory, the same database and events.
    other = await startService(vizService, stack.platform, {
      env: testEnv({ VIZ_DATA_SERVICE_URL: stack.data.url, ...LONG_TTL }),
      port: 0,
    });
    shortLived = await startService(vizService, stack.platform, {
      env: testEnv({ VIZ_DATA_SERVICE_URL: stack.data.url, VIZ_CHART_TTL_MS: String(SHORT_TTL_MS) }),
      port: 0,
    });
  });
  afterAll(async () => {
    await shortLived.close();
    await other.close();
    await stack.close();
  });

  async function sharedChart(): Promise<Chart> {
    const saved = await callJson<Chart>(stack.platform, stack.viz, owner, 'POST', '/api/v1/viz/charts', {
      title: 'rain',
      visibility: 'shared',
      spec: SPEC,
    });
    expect(saved.status).toBe(201);
    return saved.body;
  }

  it('refuses a chart made private on one instance to others on another, at once', async () => {
    const chart = await sharedChart();
    expect(await statusWithin(stack, other, viewer, chart.id, 200, 0)).toBe(200);
    expect(await statusWithin(stack, other, viewer, chart.id, 200, 0)).toBe(200);

    const changed = await callJson(
      stack.platform,
      stack.viz,
      owner,
      'PATCH',
      `/api/v1/viz/charts/${chart.id}`,
      {
        visibility: 'private',
      },
    );
    expect(changed.status).toBe(200);
    expect(await statusWithin(stack, other, viewer, chart.id, 404, 2000)).toBe(404);
    expect(await statusWithin(stack, other, owner, chart.id, 200, 0)).toBe(200);
    expect(await statusWithin(stack, other, person('admin'), chart.id, 200, 0)).toBe(200);
  });

  it('stops rendering a chart deleted on another instance, for its owner too', async () => {
    const chart = await sharedChart();
    expect(await statusWithin(stack, other, owner, chart.id, 200, 0)).toBe(200);
    const deleted = await callAs(stack.platform, stack.viz, owner, `/api/v1/viz/charts/${chart.id}`, {
      method: 'DELETE',
    });
    expect(deleted.status).toBe(204);
    expect(await statusWithin(stack, other, owner, chart.id, 404, 2000)).toBe(404);
  });

  it('trusts what it remembers no longer than VIZ_CHART_TTL_MS when no announcement comes', async () => {
    const chart = await sharedChart();
    expect(await statusWithin(stack, shortLived, viewer, chart.id, 200, 0)).toBe(200);
    expect(await statusWithin(stack, other, viewer, chart.id, 200, 0)).toBe(200);
    // Changed behind every instance's back, as if the announcement had been lost.
    const db = await testDatabase();
    try {
      await db.pool.query(`UPDATE viz.charts SET visibility = 'private' WHERE id = $1`, [chart.id]);
    } finally {
      await db.close();
    }
    // The long-lived instance remembers the chart it read: no PostgreSQL read per render.
    expect(await statusWithin(stack, other, viewer, chart.id, 200, 0)).toBe(200);
    expect(await statusWithin(stack, shortLived, viewer, chart.id, 404, SHORT_TTL_MS + 1000)).toBe(404);
  });

  it('refuses a dashboard made private on one instance to others on another', async () => {
    const created = await callJson<{ id: string }>(
      stack.platform,
      stack.viz,
      owner,
      'POST',
      '/api/v1/viz/dashboards',
      {
        title: 'board',
        visibility: 'shared',
        layout: {
          columns: 4,
          row_height: 100,
          items: [{ type: 'text', text: 'hello', x: 0, y: 0, w: 2, h: 1 }],
        },
      },
    );
    expect(created.status).toBe(201);
    const path = `/api/v1/viz/dashboards/${created.body.id}`;
    expect((await callJson(stack.platform, other, viewer, 'GET', path)).status).toBe(200);
    const changed = await callJson(stack.platform, stack.viz, owner, 'PATCH', path, {
      visibility: 'private',
    });
    expect(changed.status).toBe(200);
    const deadline = performance.now() + 2000;
    let status = 200;
    while (status !== 404 && performance.now() < deadline)
      status = (await callJson(stack.platform, other, viewer, 'GET', path)).status;
    expect(status).toBe(404);
  });
});
