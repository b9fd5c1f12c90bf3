import { describe, expect, it } from 'vitest';
import { forPicture, renderSvg, sized } from './render.engine.ts';
import { rasterize, resize } from './render.output.ts';

const limits = { maxMarks: 10_000, timeoutMs: 20_000 };

// 1,000 points on an x axis from 0 to 1,000: Vega hides every other tick label as overlapping.
const scatter = sized(
  {
    title: 'Points',
    data: {
      values: Array.from({ length: 1000 }, (_, i) => ({ x: (i * 7919) % 997, y: (i * 104729) % 499 })),
    },
    mark: 'point',
    encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
  },
  640,
  480,
);

const pixels = (svg: string) =>
  Buffer.from(rasterize(resize({ svg, width: 640, height: 480 }, { scale: 1 }, 1e7)).pixels);

describe('the SVG drawn for a chart', () => {
  it('keeps ARIA labels for an SVG, leaves them out for a picture, and the picture is the same', async () => {
    const forSvg = await renderSvg(scatter, limits);
    const picture = await renderSvg(forPicture(scatter), limits);

    expect(forSvg.svg).toContain('aria-label="x: 0; y: 0"');
    // No description per point; only the title's remains.
    expect(picture.svg.match(/aria-label=/g)?.length).toBeLessThanOrEqual(1);
    expect(picture.svg.length).toBeLessThan(forSvg.svg.length * 0.75);
    expect(pixels(picture.svg).equals(pixels(forSvg.svg))).toBe(true);
  });

  it('writes no element that paints nothing, such as the axis labels Vega hid for overlapping', async () => {
    const { svg } = await renderSvg(scatter, limits);
    const labels = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((match) => match[1]);

    expect(svg).not.toMatch(/opacity="0"/);
    // Every other x label is hidden: 0, 100 … 1,000 remain; 550 … 950 do not (the y axis ends at 500).
    expect(labels).toEqual(expect.arrayContaining(['0', '100', '900', '1,000', 'Points']));
    expect(labels.filter((label) => ['550', '650', '750', '850', '950'].includes(label!))).toEqual([]);
  });

  it('keeps the user’s own config beside the one it adds', () => {
    const spec = forPicture({ ...scatter, config: { font: 'serif', aria: true } });

    expect(spec.config).toEqual({ font: 'serif', aria: false });
  });
});
