import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pixelmatch from 'pixelmatch';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { compileBuilder } from '../builder/builder.compile.ts';
import type { ChartSpec } from '../charts/charts.spec.ts';
import { forPicture, renderSvg, sized } from './render.engine.ts';
import { encode, resize } from './render.output.ts';
import { inferFieldTypes } from './render.types.ts';

/**
 * Real charts drawn with the shipped fonts and compared with the committed
 * PNGs pixel by pixel. `UPDATE_GOLDEN=1` rewrites them after an intended change.
 */
const GOLDEN = (name: string) => fileURLToPath(new URL(`./golden/${name}.png`, import.meta.url));
/** Per-pixel colour distance pixelmatch ignores (anti-aliasing noise), and the share of pixels that may differ. */
const THRESHOLD = 0.1;
const MAX_DIFF_SHARE = 0.005;

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun'];
const rain = months.map((month, i) => ({ month, city: i % 2 ? 'Brest' : 'Lyon', mm: 40 + ((i * 37) % 61) }));
const series = Array.from({ length: 24 }, (_, i) => ({
  day: `2024-01-${String(i + 1).padStart(2, '0')}`,
  value: 10 + Math.round(8 * Math.sin(i / 3)) + i,
}));
const scatter = Array.from({ length: 300 }, (_, i) => ({
  x: (i * 7919) % 997,
  y: ((i * 104729) % 499) + (i % 7) * 20,
  kind: i % 3 ? 'b' : 'a',
}));

const CHARTS: Record<string, ChartSpec> = {
  bar: compileBuilder({
    type: 'bar',
    data: { values: rain },
    x: 'month',
    y: 'mm',
    aggregate: 'sum',
    color: 'city',
    title: 'Rain per month',
  }),
  line: compileBuilder({
    type: 'line',
    data: { values: series },
    x: 'day',
    y: 'value',
    title: 'Daily value',
  }),
  scatter: compileBuilder({
    type: 'scatter',
    data: { values: scatter },
    x: 'x',
    y: 'y',
    color: 'kind',
    title: 'Scatter',
  }),
  pie: compileBuilder({ type: 'pie', data: { values: rain }, x: 'city', y: 'mm', aggregate: 'sum' }),
  heatmap: compileBuilder({
    type: 'heatmap',
    data: { values: rain },
    x: 'month',
    y: 'city',
    color: 'mm',
    aggregate: 'mean',
  }),
};

async function draw(spec: ChartSpec): Promise<Buffer> {
  const chart = await renderSvg(forPicture(sized(inferFieldTypes(structuredClone(spec)), 480, 320)), {
    maxMarks: 10_000,
    timeoutMs: 20_000,
  });
  return encode(resize(chart, { width: 480, height: 320, scale: 1 }, 1e7), 'png');
}

async function rgba(png: Buffer) {
  return sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
}

describe('real charts match their committed golden images', () => {
  it.each(Object.keys(CHARTS))('%s', async (name) => {
    const png = await draw(CHARTS[name]!);
    const file = GOLDEN(name);
    // A test-only switch, like vitest's own -u for snapshots.
    // eslint-disable-next-line no-restricted-properties
    const update = process.env.UPDATE_GOLDEN === '1';
    if (update || !existsSync(file)) {
      expect(update ? '1' : undefined, `golden image ${name}.png is missing: run with UPDATE_GOLDEN=1`).toBe(
        '1',
      );
      writeFileSync(file, png);
    }
    const [actual, expected] = await Promise.all([rgba(png), rgba(readFileSync(file))]);
    expect([actual.info.width, actual.info.height]).toEqual([expected.info.width, expected.info.height]);
    const { width, height } = actual.info;
    const differing = pixelmatch(actual.data, expected.data, undefined, width, height, {
      threshold: THRESHOLD,
    });
    expect(differing / (width * height)).toBeLessThanOrEqual(MAX_DIFF_SHARE);
    // A blank or one-colour image would match a blank golden: the chart must draw something.
    const stats = await sharp(png).stats();
    expect(stats.channels[0]!.stdev).toBeGreaterThan(10);
  });
});
