import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@datalab/platform';
import { person } from '../../../../test/internal.ts';
import { renderSvg } from './render.engine.ts';
import { problemOf, renderAs, startVizStack, uploadCsv, type VizStack } from './render.test-fixtures.ts';

/** A server on this machine standing for an internal address: nothing may ever reach it. */
let canary: Server;
let canaryUrl: string;
const hits: string[] = [];
let stack: VizStack;
const editor = person('editor');

beforeAll(async () => {
  canary = createServer((request, response) => {
    hits.push(request.url ?? '');
    response.end('{"secret": true}');
  });
  await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
  canaryUrl = `http://127.0.0.1:${(canary.address() as AddressInfo).port}`;
  stack = await startVizStack({ VIZ_RENDER_MAX_ROWS: '1000', VIZ_RENDER_MAX_MARKS: '3000' });
});
afterAll(async () => {
  await stack.close();
  await new Promise((resolve) => canary.close(resolve));
  // Whatever was refused, nothing reached the internal address.
  expect(hits).toEqual([]);
});

const points = (count: number) => Array.from({ length: count }, (_, i) => ({ x: i, y: i % 17 }));
const scatter = {
  mark: 'point',
  encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
};

describe('nothing is loaded from the network or from files', () => {
  it.each([
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data'],
    ['a local file', 'file:///etc/passwd'],
    ['an internal service', 'http://127.0.0.1:8001/api/v1/data/datasets'],
  ])('refuses data.url to %s with a 400 naming /body/spec/data/url', async (_what, url) => {
    const answer = await renderAs(stack, editor, { spec: { ...scatter, data: { url } } });
    expect(answer.status).toBe(400);
    expect(problemOf(answer).errors?.map((e) => e.field)).toEqual(['/body/spec/data/url']);
  });

  it('refuses an image mark whose picture is at an internal address', async () => {
    const spec = {
      data: { values: [{ a: 1 }] },
      mark: 'image',
      encoding: { url: { value: `${canaryUrl}/logo.png` } },
    };
    const answer = await renderAs(stack, editor, { spec });
    expect(answer.status).toBe(400);
    expect(problemOf(answer).errors?.map((e) => e.field)).toEqual(['/body/spec/encoding/url']);
  });

  it('refuses, in the renderer itself, an image or data URL that got past the spec check', async () => {
    const image = {
      data: { values: [{ a: 1, src: `${canaryUrl}/logo.png` }] },
      mark: { type: 'image', width: 10, height: 10 },
      encoding: { url: { field: 'src' } },
    };
    const limits = { maxMarks: 1000, timeoutMs: 5000 };
    await expect(renderSvg(image, limits)).rejects.toThrow(/external address/);
    const data = { ...scatter, data: { url: `${canaryUrl}/rows.json` } };
    await expect(renderSvg(data, limits)).rejects.toBeInstanceOf(AppError);
  });

  it('refuses expression functions that allocate without bound', async () => {
    const spec = {
      ...scatter,
      data: { values: points(3) },
      transform: [{ calculate: 'sequence(0, 1e9)', as: 'z' }],
    };
    const answer = await renderAs(stack, editor, { spec });
    expect(answer.status).toBe(400);
    expect(problemOf(answer).errors?.map((e) => e.field)).toEqual(['/body/spec/transform/0/calculate']);
  });
});

describe('limits keep a render small', () => {
  it('refuses a 5-million-point chart (413) and the process stays within its memory', async () => {
    const before = process.memoryUsage().rss;
    const generated = await renderAs(stack, editor, {
      spec: { ...scatter, data: { sequence: { start: 0, stop: 5_000_000, as: 'x' } } },
    });
    expect(generated.status).toBe(413);
    const sql = await renderAs(stack, editor, {
      spec: { ...scatter, data: { sql: 'SELECT g AS x, g % 17 AS y FROM generate_series(1, 5000000) AS g' } },
    });
    expect(sql.status).toBe(413);
    expect(problemOf(sql).errors?.map((e) => e.field)).toEqual(['/body/spec/data/sql']);
    expect(process.memoryUsage().rss - before).toBeLessThan(300 * 1024 * 1024);
  });

  it('refuses a dataset with more rows than VIZ_RENDER_MAX_ROWS, naming the source', async () => {
    const csv = `x,y\n${points(1001)
      .map((p) => `${p.x},${p.y}`)
      .join('\n')}\n`;
    const big = await uploadCsv(stack, editor, csv);
    const answer = await renderAs(stack, editor, { spec: { ...scatter, data: { dataset: big.name } } });
    expect(answer.status).toBe(413);
    expect(problemOf(answer).detail).toMatch(/more than 1000 rows/);
    const capped = await renderAs(
      stack,
      editor,
      { spec: { ...scatter, data: { dataset: big.name, query: { limit: 500 } } } },
      'format=json',
    );
    expect(capped.status).toBe(200);
  });

  it('refuses a chart drawing more marks than VIZ_RENDER_MAX_MARKS', async () => {
    const spec = {
      data: { values: points(1000) },
      layer: [
        scatter,
        { ...scatter, mark: 'tick' },
        { ...scatter, mark: 'circle' },
        { ...scatter, mark: 'square' },
      ],
    };
    const answer = await renderAs(stack, editor, { spec });
    expect(answer.status).toBe(413);
    expect(problemOf(answer).detail).toMatch(/more than 3000 marks/);
  });

  it('refuses an image larger than the pixel budget before drawing it', async () => {
    const answer = await renderAs(
      stack,
      editor,
      { spec: { ...scatter, data: { values: points(3) } } },
      'format=png&width=8000&height=8000&scale=2',
    );
    expect(answer.status).toBe(413);
  });
});
