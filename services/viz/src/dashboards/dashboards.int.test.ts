import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Platform, type Principal, type RunningService } from '@datalab/platform';
import { testEnv, testPlatform, uniqueName } from '../../../../test/helpers.ts';
import { callJson, person } from '../../../../test/internal.ts';
import { vizService } from '../definition.ts';

let platform: Platform;
let viz: RunningService;

function call(as: Principal, method: string, path: string, body?: unknown) {
  return callJson<Record<string, unknown>>(platform, viz, as, method, path, body);
}

async function chartOf(owner: Principal, visibility = 'private'): Promise<string> {
  const spec = {
    data: { values: [{ a: 1 }] },
    mark: 'point',
    encoding: { x: { field: 'a', type: 'quantitative' } },
  };
  const answer = await call(owner, 'POST', '/api/v1/viz/charts', {
    title: uniqueName('chart'),
    visibility,
    spec,
  });
  return answer.body.id as string;
}

const layoutWith = (chartId: string) => ({
  columns: 12,
  row_height: 80,
  items: [
    { type: 'text', text: 'Notes', x: 0, y: 0, w: 4, h: 1 },
    { type: 'chart', chart_id: chartId, x: 4, y: 0, w: 8, h: 3 },
  ],
});

beforeAll(async () => {
  platform = await testPlatform();
  viz = await startService(vizService, platform, { env: testEnv(), port: 0 });
});
afterAll(async () => {
  await viz.close();
  await platform.close();
});

describe('saved dashboards', () => {
  const editor = person('editor');

  it('saves, reads, lists, changes and deletes a dashboard of my charts and text', async () => {
    const layout = layoutWith(await chartOf(editor));
    const made = await call(editor, 'POST', '/api/v1/viz/dashboards', { title: 'Weather', layout });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      title: 'Weather',
      visibility: 'private',
      owner_id: editor.userId,
      layout,
    });
    const id = made.body.id as string;
    expect((await call(editor, 'GET', `/api/v1/viz/dashboards/${id}`)).body.layout).toEqual(layout);
    const list = await call(editor, 'GET', '/api/v1/viz/dashboards?owner=me');
    expect(list.body).toMatchObject({ total: 1, dashboards: [{ id, title: 'Weather' }] });
    const changed = await call(editor, 'PATCH', `/api/v1/viz/dashboards/${id}`, { visibility: 'shared' });
    expect(changed.body.visibility).toBe('shared');
    expect((await call(editor, 'DELETE', `/api/v1/viz/dashboards/${id}`)).status).toBe(204);
    expect((await call(editor, 'GET', `/api/v1/viz/dashboards/${id}`)).status).toBe(404);
  });

  it('refuses an item wider than the grid and a chart I may not read, naming each (400), saving nothing', async () => {
    const author = person('editor');
    const hidden = await chartOf(person('editor'));
    const layout = {
      columns: 12,
      row_height: 80,
      items: [
        { type: 'text', text: 'x', x: 8, y: 0, w: 6, h: 1 },
        { type: 'chart', chart_id: hidden, x: 0, y: 1, w: 4, h: 2 },
        { type: 'chart', chart_id: randomUUID(), x: 4, y: 1, w: 4, h: 2 },
      ],
    };
    const answer = await call(author, 'POST', '/api/v1/viz/dashboards', { title: 'x', layout });
    expect(answer.status).toBe(400);
    expect((answer.body.errors as { field: string }[]).map((e) => e.field)).toEqual([
      '/body/layout/items/0/w',
      '/body/layout/items/1/chart_id',
      '/body/layout/items/2/chart_id',
    ]);
    expect((await call(author, 'GET', '/api/v1/viz/dashboards?owner=me')).body.total).toBe(0);
  });

  it('lets another editor read a shared dashboard but not change it (403), and hides a private one (404)', async () => {
    const owner = person('editor');
    const other = person('editor');
    const shared = await call(owner, 'POST', '/api/v1/viz/dashboards', {
      title: 's',
      visibility: 'shared',
      layout: layoutWith(await chartOf(owner)),
    });
    const hidden = await call(owner, 'POST', '/api/v1/viz/dashboards', {
      title: 'h',
      layout: layoutWith(await chartOf(owner)),
    });
    expect((await call(other, 'GET', `/api/v1/viz/dashboards/${String(shared.body.id)}`)).status).toBe(200);
    expect(
      (await call(other, 'PATCH', `/api/v1/viz/dashboards/${String(shared.body.id)}`, { title: 'mine' }))
        .status,
    ).toBe(403);
    expect((await call(other, 'GET', `/api/v1/viz/dashboards/${String(hidden.body.id)}`)).status).toBe(404);
    expect((await call(other, 'DELETE', `/api/v1/viz/dashboards/${String(hidden.body.id)}`)).status).toBe(
      404,
    );
  });
});
