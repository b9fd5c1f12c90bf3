import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAs, person } from '../../../../test/internal.ts';
import {
  appendCsv,
  problemOf,
  renderAs,
  startVizStack,
  uploadCsv,
  type VizStack,
} from './render.test-fixtures.ts';

let stack: VizStack;
const editor = person('editor');

beforeAll(async () => {
  stack = await startVizStack();
});
afterAll(() => stack.close());

const barOf = (dataset: string) => ({
  data: { dataset, query: { group_by: ['city'], aggregates: [{ fn: 'sum', column: 'rain', as: 'rain' }] } },
  mark: 'bar',
  encoding: { x: { field: 'city', type: 'nominal' }, y: { field: 'rain', type: 'quantitative' } },
});

describe('the render cache', () => {
  it('answers a repeated render from the cache with the same bytes and ETag, and 304 to If-None-Match', async () => {
    const dataset = await uploadCsv(stack, editor, 'city,rain\nLyon,831\nBrest,1210\n');
    const first = await renderAs(
      stack,
      editor,
      { spec: barOf(dataset.name) },
      'format=png&width=300&height=200',
    );
    expect(first.status).toBe(200);
    expect(first.headers.get('x-datalab-cache')).toBe('miss');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{40}"$/);
    expect(first.headers.get('cache-control')).toBe('private, no-cache');

    const second = await renderAs(
      stack,
      editor,
      { spec: barOf(dataset.name) },
      'format=png&width=300&height=200',
    );
    expect(second.headers.get('x-datalab-cache')).toBe('hit');
    expect(second.headers.get('etag')).toBe(etag);
    expect(second.bytes.equals(first.bytes)).toBe(true);

    const revalidated = await renderAs(
      stack,
      editor,
      { spec: barOf(dataset.name) },
      'format=png&width=300&height=200',
      {
        'if-none-match': `"other", ${etag}`,
      },
    );
    expect(revalidated.status).toBe(304);
    expect(revalidated.bytes.length).toBe(0);
    expect(revalidated.headers.get('etag')).toBe(etag);
  });

  it('gives another ETag to another format or size of the same chart', async () => {
    const dataset = await uploadCsv(stack, editor, 'city,rain\nLyon,831\n');
    const etags = new Set<string>();
    for (const query of ['format=png', 'format=svg', 'format=png&width=400', 'format=png&scale=2'])
      etags.add((await renderAs(stack, editor, { spec: barOf(dataset.name) }, query)).headers.get('etag')!);
    expect(etags.size).toBe(4);
  });

  it('renders afresh once rows are appended: a new ETag, the old one no longer 304', async () => {
    const dataset = await uploadCsv(stack, editor, 'city,rain\nLyon,831\nBrest,1210\n');
    const before = await renderAs(stack, editor, { spec: barOf(dataset.id) }, 'format=json');
    const etag = before.headers.get('etag')!;
    await appendCsv(stack, editor, dataset.id, 'city,rain\nNice,733\n');

    const after = await renderAs(stack, editor, { spec: barOf(dataset.id) }, 'format=json', {
      'if-none-match': etag,
    });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(etag);
    expect(after.headers.get('x-datalab-cache')).toBe('miss');
    const spec = JSON.parse(after.bytes.toString('utf8')) as { data: { values: { city: string }[] } };
    expect(spec.data.values.map((row) => row.city).sort()).toEqual(['Brest', 'Lyon', 'Nice']);
  });

  it('keys a SQL source by its answer: new rows in the dataset read give a new ETag', async () => {
    const dataset = await uploadCsv(stack, editor, 'city,rain\nLyon,831\n');
    const spec = { ...barOf('x'), data: { sql: `SELECT city, rain FROM ${dataset.name}` } };
    const before = (await renderAs(stack, editor, { spec }, 'format=svg')).headers.get('etag');
    expect((await renderAs(stack, editor, { spec }, 'format=svg')).headers.get('etag')).toBe(before);
    await appendCsv(stack, editor, dataset.id, 'city,rain\nNice,733\n');
    expect((await renderAs(stack, editor, { spec }, 'format=svg')).headers.get('etag')).not.toBe(before);
  });

  it("checks the caller's access on every render while a dataset's version is remembered", async () => {
    const other = person('editor');
    const dataset = await uploadCsv(stack, editor, 'city,rain\nLyon,831\n', { visibility: 'shared' });
    const spec = barOf(dataset.name);
    expect((await renderAs(stack, editor, { spec }, 'format=svg')).status).toBe(200);
    const cached = await renderAs(stack, other, { spec }, 'format=svg');
    expect(cached.status).toBe(200);
    expect(cached.headers.get('x-datalab-cache')).toBe('hit');

    const unshared = await callAs(stack.platform, stack.data, editor, `/api/v1/data/datasets/${dataset.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ visibility: 'private' }),
    });
    expect(unshared.status).toBe(200);
    const refused = await renderAs(stack, other, { spec }, 'format=svg');
    expect(refused.status).toBe(404);
    expect(problemOf(refused).errors?.[0]?.field).toBe('/body/spec/data/dataset');
    expect((await renderAs(stack, editor, { spec }, 'format=svg')).headers.get('x-datalab-cache')).toBe(
      'hit',
    );
    expect((await renderAs(stack, person('editor'), { spec }, 'format=svg')).status).toBe(404);
  });

  it('draws a chart once when many callers miss it at the same moment', async () => {
    const rendersOf = async (format: string): Promise<number> => {
      const text = await (await fetch(`${stack.viz.url}/metrics`)).text();
      const line = new RegExp(
        `^viz_render_duration_seconds_count\\{[^}]*format="${format}"[^}]*\\} (\\d+)$`,
        'm',
      );
      return Number(line.exec(text)?.[1] ?? 0);
    };
    const dataset = await uploadCsv(stack, editor, 'city,rain\nLyon,831\nBrest,1210\n');
    const before = await rendersOf('webp');
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        renderAs(stack, editor, { spec: barOf(dataset.name) }, 'format=webp&width=300&height=200'),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    expect(new Set(answers.map((answer) => answer.headers.get('etag'))).size).toBe(1);
    expect(answers.every((answer) => answer.bytes.equals(answers[0]!.bytes))).toBe(true);
    expect(await rendersOf('webp')).toBe(before + 1);
  });

  it('counts hits, misses and 304s, render time by format and bytes sent on /metrics', async () => {
    const text = await (await fetch(`${stack.viz.url}/metrics`)).text();
    expect(text).toMatch(/viz_render_cache_total\{[^}]*result="hit"[^}]*\} [1-9]/);
    expect(text).toMatch(/viz_render_cache_total\{[^}]*result="not_modified"[^}]*\} [1-9]/);
    expect(text).toMatch(/viz_render_duration_seconds_count\{[^}]*format="png"[^}]*\} [1-9]/);
    expect(text).toMatch(/viz_render_bytes_total\{[^}]*format="png"[^}]*\} [1-9]/);
  });
});
