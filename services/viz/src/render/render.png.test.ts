import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderSvg, sized } from './render.engine.ts';
import { rasterize, resize } from './render.output.ts';
import { compactPng, type Raster } from './render.png.ts';

const raster = (svg: string): Raster => rasterize({ svg, width: 0, height: 0 });

/** Straight (not premultiplied) RGBA, as any PNG reader sees the image. */
const decoded = (png: Buffer) => sharp(png).ensureAlpha().raw().toBuffer();

/** Both PNGs show exactly the same pixels (compared as bytes: a deep equal of a megabyte is slow). */
async function samePixels(a: Buffer, b: Buffer): Promise<boolean> {
  const [left, right] = await Promise.all([decoded(a), decoded(b)]);
  return left.equals(right);
}

/** IHDR's colour type: 2 RGB, 3 indexed, 6 RGBA. */
const colourType = (png: Buffer): number => png[25]!;

const svg = (body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"><rect width="120" height="80" fill="white"/>${body}</svg>`;

describe('PNG encoding', () => {
  it('writes a chart of few colours as an indexed PNG with every pixel unchanged', async () => {
    const image = raster(
      svg('<circle cx="40" cy="40" r="25" fill="#4c78a8"/><text x="70" y="45" font-size="14">ab</text>'),
    );
    const png = await compactPng(image);
    expect(colourType(png)).toBe(3);
    expect(await samePixels(png, image.asPng())).toBe(true);
  });

  it('writes more than 256 colours as RGB, every pixel unchanged', async () => {
    // A red gradient across and a blue one down: every pixel a colour of its own.
    const image = raster(
      svg(
        '<defs><linearGradient id="r"><stop offset="0" stop-color="#000"/><stop offset="1" stop-color="#f00"/></linearGradient>' +
          '<linearGradient id="b" x2="0" y2="1"><stop offset="0" stop-color="#00f" stop-opacity="0"/><stop offset="1" stop-color="#00f"/></linearGradient></defs>' +
          '<rect width="120" height="80" fill="url(#r)"/><rect width="120" height="80" fill="url(#b)"/>',
      ),
    );
    const png = await compactPng(image);
    expect(colourType(png)).toBe(2);
    expect(await samePixels(png, image.asPng())).toBe(true);
  });

  it("keeps resvg's own PNG where the background shows through", async () => {
    const image = raster(
      '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="20" height="20" fill="#ff8040" fill-opacity="0.5"/></svg>',
    );
    const png = await compactPng(image);
    expect(colourType(png)).toBe(6);
    expect(png).toEqual(image.asPng());
  });

  it('gives a 1,000-point scatter in well under half the bytes of resvg’s PNG', async () => {
    const values = Array.from({ length: 1000 }, (_, i) => ({ x: (i * 7919) % 997, y: (i * 104729) % 499 }));
    const spec = {
      data: { values },
      mark: 'point',
      encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
    };
    const chart = await renderSvg(sized(spec, 640, 480), { maxMarks: 10_000, timeoutMs: 20_000 });
    const image = rasterize(resize(chart, { width: 640, height: 480, scale: 1 }, 1e7));
    const png = await compactPng(image);
    expect(png.length).toBeLessThan(image.asPng().length / 2);
    expect(await samePixels(png, image.asPng())).toBe(true);
  });
});
