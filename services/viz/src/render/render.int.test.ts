import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { person } from '../../../../test/internal.ts';
import { problemOf, renderAs, startVizStack, uploadCsv, type VizStack } from './render.test-fixtures.ts';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let stack: VizStack;
const editor = person('editor');
let dataset: { id: string; name: string };

function pointsCsv(count: number): string {
  const lines = ['x,y,kind'];
  for (let i = 0; i < count; i += 1) lines.push(`${i},${(i * 7919) % 101},${i % 3 === 0 ? 'a' : 'b'}`);
  return `${lines.join('\n')}\n`;
}

const scatterOf = (name: string) => ({
  data: { dataset: name },
  mark: 'point',
  encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
});

beforeAll(async () => {
  stack = await startVizStack();
  dataset = await uploadCsv(stack, editor, pointsCsv(200));
});
afterAll(() => stack.close());

describe('rendering a chart of a dataset the caller owns', () => {
  it('answers a PNG of exactly width × scale by height × scale pixels', async () => {
    const answer = await renderAs(
      stack,
      editor,
      { spec: scatterOf(dataset.name) },
      'format=png&width=400&height=300&scale=2',
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('image/png');
    expect(answer.bytes.subarray(0, 8)).toEqual(PNG);
    const meta = await sharp(answer.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 800, 600]);
  });

  it('answers an SVG document whose size is the requested one', async () => {
    const answer = await renderAs(
      stack,
      editor,
      { spec: scatterOf(dataset.id) },
      'format=svg&width=500&height=250',
    );
    expect(answer.headers.get('content-type')).toContain('image/svg+xml');
    const svg = answer.bytes.toString('utf8');
    expect(svg).toMatch(/^<svg[^>]* width="500"[^>]* height="250"/);
    expect(svg.match(/<path[^>]*class="[^"]*"|role-mark/g)?.length).toBeGreaterThan(0);
    expect(answer.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('answers a one-page PDF whose page is the requested size in points', async () => {
    const answer = await renderAs(
      stack,
      editor,
      { spec: scatterOf(dataset.name) },
      'format=pdf&width=420&height=300&scale=1.5',
    );
    expect(answer.headers.get('content-type')).toBe('application/pdf');
    const text = answer.bytes.toString('latin1');
    expect(text.startsWith('%PDF-')).toBe(true);
    expect(text.trimEnd().endsWith('%%EOF')).toBe(true);
    expect(text).toMatch(/\/MediaBox \[0 0 630 450\]/);
    expect(text.match(/\/Type \/Page\b/g)).toHaveLength(1);
  });

  it('answers WebP and AVIF of the requested size', async () => {
    for (const format of ['webp', 'avif'] as const) {
      const answer = await renderAs(
        stack,
        editor,
        { spec: scatterOf(dataset.name) },
        `format=${format}&width=320&height=200`,
      );
      expect(answer.headers.get('content-type')).toBe(`image/${format}`);
      const meta = await sharp(answer.bytes).metadata();
      expect([meta.format === 'heif' ? 'avif' : meta.format, meta.width, meta.height]).toEqual([
        format,
        320,
        200,
      ]);
    }
    const webp = await renderAs(
      stack,
      editor,
      { spec: scatterOf(dataset.name) },
      'format=webp&width=320&height=200',
    );
    expect(webp.bytes.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(webp.bytes.subarray(8, 12).toString('latin1')).toBe('WEBP');
  });

  it('answers the spec with the rows inline for format=json, every row of the dataset', async () => {
    const answer = await renderAs(stack, editor, { spec: scatterOf(dataset.name) }, 'format=json');
    const spec = JSON.parse(answer.bytes.toString('utf8')) as {
      data: { values: { x: number; y: number }[] };
    };
    expect(spec.data.values).toHaveLength(200);
    expect(spec.data.values[7]).toEqual({ x: 7, y: (7 * 7919) % 101, kind: 'b' });
  });

  it('draws a chart-builder chart, guessing field types from the values', async () => {
    const chart = {
      type: 'bar',
      data: { dataset: dataset.name },
      x: 'kind',
      y: 'y',
      aggregate: 'sum',
      title: 'Sum of y',
    };
    const spec = JSON.parse(
      (await renderAs(stack, editor, { chart }, 'format=json')).bytes.toString('utf8'),
    ) as {
      mark: string;
      encoding: Record<string, { type: string; aggregate?: string }>;
    };
    expect(spec.mark).toBe('bar');
    expect(spec.encoding.x).toMatchObject({ field: 'kind', type: 'nominal' });
    expect(spec.encoding.y).toMatchObject({ field: 'y', type: 'quantitative', aggregate: 'sum' });
    const png = await renderAs(stack, editor, { chart }, 'format=png&width=300&height=200');
    expect(png.status).toBe(200);
    expect((await sharp(png.bytes).metadata()).width).toBe(300);
  });
});

describe('bad specs are refused with a 400 naming the problem', () => {
  it.each([
    ['an unknown mark', { data: { values: [{ a: 1 }] }, mark: 'pyramid' }, '/body/spec/mark'],
    [
      'an unknown field type',
      { data: { values: [{ a: 1 }] }, mark: 'bar', encoding: { x: { field: 'a', type: 'bogus' } } },
      '/body/spec/encoding/x/type',
    ],
    ['no mark or composition at all', { data: { values: [{ a: 1 }] } }, '/body/spec'],
    [
      'a column the dataset does not have',
      { data: { dataset: 'X', query: { select: ['nope'] } }, mark: 'point' },
      '/body/spec/data/query/select/0',
    ],
  ])('%s', async (_what, spec, field) => {
    const named = JSON.parse(JSON.stringify(spec).replace('"X"', JSON.stringify(dataset.name))) as unknown;
    const answer = await renderAs(stack, editor, { spec: named });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(problemOf(answer).errors?.map((e) => e.field)).toContain(field);
  });

  it('refuses a chart builder missing what its type needs', async () => {
    const answer = await renderAs(stack, editor, {
      chart: { type: 'scatter', data: { dataset: dataset.name }, x: 'x' },
    });
    expect(answer.status).toBe(400);
    expect(problemOf(answer).errors?.map((e) => e.field)).toContain('/body/chart/y');
  });
});
