import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, startStack, type Stack } from './stack.ts';

/**
 * Hostile chart specs, sent through the gateway to the viz-service's render endpoint, saved as
 * charts and drawn on dashboards. Each must be refused with a 4xx problem+json naming the place
 * (a JSON pointer into the request) or the limit, never a 5xx or a dead process, and a refused
 * chart must not be saved.
 */

const scatter = {
  mark: 'point',
  encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
};
const values = [{ x: 1, y: 2, s: 'aaaa' }];
const histogram = {
  data: { values: [{ x: 0 }, { x: 1e6 }] },
  mark: 'bar',
  encoding: { x: { field: 'x', type: 'quantitative' }, y: { aggregate: 'count', type: 'quantitative' } },
};

type Case = [what: string, spec: Record<string, unknown>, status: number, field: RegExp];

/** Filled in once the stack runs: they need its ports and another user's dataset. */
function corpus(stack: Stack, othersDataset: string): Case[] {
  const internal = `http://127.0.0.1:${stack.ports.data}/api/v1/data/datasets`;
  return [
    [
      'data.url to a file',
      { ...scatter, data: { url: 'file:///etc/passwd' } },
      400,
      /^\/body\/spec\/data\/url$/,
    ],
    [
      'data.url to an internal port',
      { ...scatter, data: { url: internal } },
      400,
      /^\/body\/spec\/data\/url$/,
    ],
    [
      'data.url inside a layer',
      { layer: [{ ...scatter, data: { url: internal } }] },
      400,
      /^\/body\/spec\/layer\/0\/data\/url$/,
    ],
    [
      'an image mark with an internal address',
      { data: { values }, mark: 'image', encoding: { url: { value: `${internal}/x.png` } } },
      400,
      /^\/body\/spec\/encoding\/url$/,
    ],
    [
      'another user’s private dataset',
      { ...scatter, data: { dataset: othersDataset } },
      404,
      /^\/body\/spec\/data/,
    ],
    [
      'SQL over another user’s private dataset',
      { ...scatter, data: { sql: `SELECT * FROM ${othersDataset}` } },
      404,
      /^\/body\/spec\/data/,
    ],
    [
      'a sequence of ten billion rows',
      { ...scatter, data: { sequence: { start: 0, stop: 1e10 } } },
      413,
      /^\/body\/spec$/,
    ],
    [
      'sequence() in a calculate',
      { ...scatter, data: { values }, transform: [{ calculate: 'sequence(0, 1e9)', as: 'n' }] },
      400,
      /^\/body\/spec\/transform\/0\/calculate$/,
    ],
    [
      'sequence() spelled with a unicode escape',
      { ...scatter, data: { values }, transform: [{ calculate: '\\u0073equence(0, 1e9)', as: 'n' }] },
      400,
      /^\/body\/spec\/transform\/0\/calculate$/,
    ],
    [
      'sequence() inside a logical filter',
      { ...scatter, data: { values }, transform: [{ filter: { and: ['length(sequence(0, 1e9)) > 0'] } }] },
      400,
      /^\/body\/spec\/transform\/0\/filter\/and\/0$/,
    ],
    [
      'sequence() in an axis labelExpr',
      {
        ...scatter,
        data: { values },
        encoding: {
          ...scatter.encoding,
          x: { field: 'x', type: 'quantitative', axis: { labelExpr: 'join(sequence(0, 1e9))' } },
        },
      },
      400,
      /^\/body\/spec\/encoding\/x\/axis\/labelExpr$/,
    ],
    [
      'a catastrophic regular expression',
      {
        ...scatter,
        data: { values },
        transform: [{ filter: "test(/(a+)+$/, datum.s + 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!')" }],
      },
      400,
      /^\/body\/spec\/transform\/0\/filter$/,
    ],
    [
      'pad() to a billion characters',
      { ...scatter, data: { values }, transform: [{ calculate: "pad('', 1e9)", as: 'p' }] },
      400,
      /^\/body\/spec\/transform\/0\/calculate$/,
    ],
    [
      'a quantile transform of a billion steps',
      { ...scatter, data: { values }, transform: [{ quantile: 'x', step: 1e-9 }] },
      400,
      /^\/body\/spec\/transform\/0\/step$/,
    ],
    [
      'a density transform of a billion steps',
      { ...scatter, data: { values }, transform: [{ density: 'x', steps: 1e9 }] },
      400,
      /^\/body\/spec\/transform\/0\/steps$/,
    ],
    [
      'ticks every millisecond across a century',
      {
        data: {
          values: [
            { t: '1900-01-01', y: 1 },
            { t: '2000-01-01', y: 2 },
          ],
        },
        mark: 'point',
        encoding: {
          x: { field: 't', type: 'temporal', axis: { tickCount: { interval: 'millisecond', step: 1 } } },
          y: { field: 'y', type: 'quantitative' },
        },
      },
      400,
      /^\/body\/spec\/encoding\/x\/axis\/tickCount$/,
    ],
    [
      'a tick count of a billion',
      {
        ...scatter,
        data: { values },
        encoding: { ...scatter.encoding, x: { field: 'x', type: 'quantitative', axis: { tickCount: 1e9 } } },
      },
      400,
      /tickCount$/,
    ],
    [
      'nesting 200 levels deep',
      {
        ...scatter,
        data: { values },
        usermeta: JSON.parse(`${'{"a":'.repeat(200)}1${'}'.repeat(200)}`) as object,
      },
      400,
      /^\/body\/spec(\/usermeta|\/a)*$/,
    ],
    [
      'an enormous string',
      { ...scatter, data: { values }, title: 'x'.repeat(300_000) },
      413,
      /^\/body\/spec$/,
    ],
    [
      'a fold of 15,000 fields over 2,000 rows',
      {
        ...scatter,
        data: { values: Array.from({ length: 2000 }, (_, i) => ({ x: i, y: i })) },
        transform: [{ fold: Array.from({ length: 15_000 }, (_, i) => `f${i}`) }],
      },
      413,
      /^\/body\/spec/,
    ],
    [
      'a billion bins (maxbins)',
      {
        ...histogram,
        encoding: { ...histogram.encoding, x: { field: 'x', type: 'quantitative', bin: { maxbins: 1e9 } } },
      },
      400,
      /^\/body\/spec\/encoding\/x\/bin\/maxbins$/,
    ],
    [
      'a billion bins (a tiny step over the data)',
      {
        ...histogram,
        encoding: { ...histogram.encoding, x: { field: 'x', type: 'quantitative', bin: { step: 1e-3 } } },
      },
      400,
      /^\/body\/spec\/encoding\/x\/bin\/step$/,
    ],
    [
      'axis labels padded to 500 million characters',
      {
        ...scatter,
        data: { values },
        encoding: {
          ...scatter.encoding,
          x: { field: 'x', type: 'quantitative', axis: { format: '0500000000d' } },
        },
      },
      400,
      /^\/body\/spec\/encoding\/x\/axis\/format$/,
    ],
    [
      'format() padding to 500 million characters',
      { ...scatter, data: { values }, transform: [{ calculate: "format(datum.x, '0500000000d')", as: 'f' }] },
      400,
      /^\/body\/spec\/transform\/0\/calculate$/,
    ],
    [
      'timeSequence() of every millisecond in a century',
      {
        ...scatter,
        data: { values },
        transform: [
          { calculate: "length(timeSequence('millisecond', datetime(1900, 0), datetime(2000, 0)))", as: 'n' },
        ],
      },
      400,
      /^\/body\/spec\/transform\/0\/calculate$/,
    ],
    [
      'a view 10^9 pixels wide',
      { ...scatter, data: { values }, width: 1e9, height: 10 },
      400,
      /^\/body\/spec\/width$/,
    ],
    [
      'a view of 10^9 pixels per band',
      { ...scatter, data: { values }, height: { step: 1e9 } },
      400,
      /^\/body\/spec\/height\/step$/,
    ],
    [
      'a default view size of 10^9',
      { ...scatter, data: { values }, config: { view: { continuousWidth: 1e9 } } },
      400,
      /continuousWidth$/,
    ],
  ];
}

describe('hostile chart specs', () => {
  let stack: Stack;
  let attacker: string;
  let othersDataset: string;
  let cases: Case[];

  beforeAll(async () => {
    // The corpus is many renders in a minute; the expensive budget is not under test here.
    stack = await startStack({ VIZ_RENDER_MAX_ROWS: '100000', RATE_LIMIT_EXPENSIVE: '1000000' });
    attacker = (await stack.signedIn('editor')).token;
    const owner = (await stack.signedIn('editor')).token;
    othersDataset = `private_${Date.now().toString(36)}`;
    const form = new FormData();
    form.append('name', othersDataset);
    form.append('file', new Blob(['x,y\n1,2\n3,4\n']), 'private.csv');
    const created = await fetch(`${stack.url}/api/v1/data/datasets`, {
      method: 'POST',
      headers: bearer(owner),
      body: form,
    });
    expect(created.status).toBe(201);
    cases = corpus(stack, othersDataset);
  }, 180_000);
  afterAll(() => stack?.close());

  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${stack.url}${path}`, {
      method,
      headers: bearer(attacker, body !== undefined),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  const myCharts = async () => {
    const response = await call('GET', '/api/v1/viz/charts');
    expect(response.status).toBe(200);
    return response.json();
  };

  it('refuses every spec of the corpus, in every format, naming the place', async () => {
    for (const [what, spec, status, field] of cases) {
      for (const format of ['svg', 'png', 'json']) {
        const response = await call('POST', `/api/v1/viz/render?format=${format}`, { spec });
        const problem = await expectProblem(response, status).catch((error: Error) => {
          throw new Error(`${what} (${format}): ${error.message}`);
        });
        expect(
          (problem.errors as { field: string }[] | undefined)?.map((e) => e.field),
          what,
        ).toEqual([expect.stringMatching(field)]);
      }
      stack.assertAlive();
    }
  }, 300_000);

  it('saves none of them as a chart', async () => {
    const before = await myCharts();
    for (const [what, spec, status] of cases) {
      // A saved chart is checked as its spec is stored, or at the latest when it is drawn.
      const saved = await call('POST', '/api/v1/viz/charts', { title: 'hostile', spec });
      if (saved.status === 201) {
        const { id } = (await saved.json()) as { id: string };
        const drawn = await call('GET', `/api/v1/viz/charts/${id}/render.png`);
        await expectProblem(drawn, status).catch((error: Error) => {
          throw new Error(`${what}, saved then drawn: ${error.message}`);
        });
        expect((await call('DELETE', `/api/v1/viz/charts/${id}`)).status).toBe(204);
      } else {
        expect(saved.status, what).toBeGreaterThanOrEqual(400);
        expect(saved.status, what).toBeLessThan(500);
        expect(saved.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
      }
    }
    expect(await myCharts()).toEqual(before);
    stack.assertAlive();
  }, 300_000);

  it('refuses a dashboard drawn larger than the pixel budget, and a raster beyond it', async () => {
    const chart = await call('POST', '/api/v1/viz/charts', {
      title: 'plain',
      spec: { ...scatter, data: { values } },
    });
    expect(chart.status).toBe(201);
    const { id: chartId } = (await chart.json()) as { id: string };
    const dashboard = await call('POST', '/api/v1/viz/dashboards', {
      title: 'huge',
      layout: {
        columns: 1,
        row_height: 1000,
        items: [{ type: 'chart', chart_id: chartId, x: 0, y: 0, w: 1, h: 40 }],
      },
    });
    expect(dashboard.status, await dashboard.clone().text()).toBe(201);
    const { id } = (await dashboard.json()) as { id: string };
    for (const path of [
      `/api/v1/viz/dashboards/${id}/render.png`,
      `/api/v1/viz/dashboards/${id}/render.png?width=100000`,
    ]) {
      const problem = await expectProblem(await call('GET', path), path.includes('width') ? 400 : 413);
      expect(problem.detail).toMatch(/VIZ_RENDER_MAX_PIXELS|width/);
    }
    const raster = await call(
      'GET',
      `/api/v1/viz/charts/${chartId}/render.png?width=8192&height=8192&scale=8`,
    );
    expect((await expectProblem(raster, 413)).detail).toMatch(/VIZ_RENDER_MAX_PIXELS|pixels/);
    stack.assertAlive();
  });
});
