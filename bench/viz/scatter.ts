import { forPicture, renderSvg, sized } from '../../services/viz/src/render/render.engine.ts';
import { encode, resize } from '../../services/viz/src/render/render.output.ts';

/** The chart both sides draw: 1,000 points, 640 × 480 pixels, axis titles and a title. */
export const POINTS = 1000;
export const WIDTH = 640;
export const HEIGHT = 480;

/** The same deterministic points the matplotlib script computes. */
export function points(): { x: number; y: number }[] {
  return Array.from({ length: POINTS }, (_, i) => ({
    x: (i * 7919) % 997,
    y: ((i * 104729) % 499) + (i % 7) * 20,
  }));
}

export function csv(): string {
  return `x,y\n${points()
    .map((p) => `${p.x},${p.y}`)
    .join('\n')}\n`;
}

export const SCATTER = {
  title: '1,000 points',
  mark: 'point',
  encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
};

/** One render the way a render thread does it: Vega-Lite → Vega → SVG → PNG (resvg, shipped fonts). */
export async function renderPng(): Promise<Buffer> {
  const spec = forPicture(sized({ ...SCATTER, data: { values: points() } }, WIDTH, HEIGHT));
  const chart = await renderSvg(spec, { maxMarks: 100_000, timeoutMs: 60_000 });
  return encode(resize(chart, { width: WIDTH, height: HEIGHT, scale: 1 }, 1e8), 'png');
}
