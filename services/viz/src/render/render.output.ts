import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';
import PDFDocument from 'pdfkit';
import sharp from 'sharp';
import SVGtoPDF from 'svg-to-pdfkit';
import { AppError } from '@datalab/platform';
import type { SvgChart } from './render.engine.ts';
import { compactPng, isOpaque, type Raster } from './render.png.ts';

/** The fonts every raster and PDF is drawn with, shipped in the repository so output is the same everywhere. */
export const FONT_FILES = {
  regular: fileURLToPath(new URL('../../fonts/DejaVuSans.ttf', import.meta.url)),
  bold: fileURLToPath(new URL('../../fonts/DejaVuSans-Bold.ttf', import.meta.url)),
};
const FONT_FAMILY = 'DejaVu Sans';

export type ImageFormat = 'svg' | 'png' | 'webp' | 'avif' | 'pdf';

export const CONTENT_TYPES: Record<ImageFormat | 'json', string> = {
  svg: 'image/svg+xml',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  pdf: 'application/pdf',
  json: 'application/json; charset=utf-8',
};

export interface OutputSize {
  /** The requested size in CSS pixels, or the chart's own. */
  width?: number | undefined;
  height?: number | undefined;
  /** Pixel ratio: the output is (width × scale) × (height × scale). */
  scale: number;
}

export interface Sized {
  svg: string;
  width: number;
  height: number;
}

/**
 * Gives the SVG exactly the requested size: its root's width and height are
 * set, its viewBox kept, so the drawing scales (and letterboxes when the
 * aspect ratio differs, as composed views may).
 */
export function resize(chart: SvgChart, size: OutputSize, maxPixels: number): Sized {
  const width = Math.max(1, Math.round((size.width ?? chart.width) * size.scale));
  const height = Math.max(1, Math.round((size.height ?? chart.height) * size.scale));
  if (width * height > maxPixels)
    throw new AppError(
      'too_large',
      `A ${width}×${height} image is larger than the ${maxPixels} pixels allowed (VIZ_RENDER_MAX_PIXELS)`,
      {
        extensions: { limit: 'VIZ_RENDER_MAX_PIXELS', limit_pixels: maxPixels },
        errors: [
          { field: '/querystring', message: `width × height × scale² must be at most ${maxPixels} pixels` },
        ],
      },
    );
  const svg = chart.svg.replace(
    /^<svg([^>]*?)\swidth="[\d.]+"([^>]*?)\sheight="[\d.]+"/,
    `<svg$1 width="${width}"$2 height="${height}"`,
  );
  return { svg, width, height };
}

const resvgFont = {
  loadSystemFonts: false,
  fontFiles: [FONT_FILES.regular, FONT_FILES.bold],
  defaultFontFamily: FONT_FAMILY,
  sansSerifFamily: FONT_FAMILY,
  serifFamily: FONT_FAMILY,
  monospaceFamily: FONT_FAMILY,
  cursiveFamily: FONT_FAMILY,
  fantasyFamily: FONT_FAMILY,
};

/** The image drawn by resvg with the shipped fonts. */
export function rasterize(image: Sized): Raster {
  const rendered = new Resvg(image.svg, { font: resvgFont, fitTo: { mode: 'original' } }).render();
  // `pixels` copies out of resvg on every read: read it once.
  return {
    pixels: rendered.pixels,
    width: rendered.width,
    height: rendered.height,
    asPng: () => rendered.asPng(),
  };
}

/** sharp's input for WebP/AVIF: the pixels themselves when opaque (no PNG encoded and decoded), else a PNG. */
function sharpOf(raster: Raster): sharp.Sharp {
  return isOpaque(raster.pixels)
    ? sharp(raster.pixels, { raw: { width: raster.width, height: raster.height, channels: 4 } })
    : sharp(raster.asPng());
}

function toPdf(image: Sized): Promise<Buffer> {
  const doc = new PDFDocument({
    size: [image.width, image.height],
    margin: 0,
    // A fixed date: the same chart gives the same bytes.
    info: { CreationDate: new Date(0), Producer: 'DataLab', Creator: 'DataLab viz-service' },
  });
  doc.registerFont(FONT_FAMILY, FONT_FILES.regular);
  doc.registerFont(`${FONT_FAMILY} Bold`, FONT_FILES.bold);
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  SVGtoPDF(doc, image.svg, 0, 0, {
    width: image.width,
    height: image.height,
    assumePt: true,
    fontCallback: (_family: string, bold: boolean) => (bold ? `${FONT_FAMILY} Bold` : FONT_FAMILY),
  });
  doc.end();
  return done;
}

/** The chart's bytes in `format`. */
export async function encode(image: Sized, format: ImageFormat): Promise<Buffer> {
  switch (format) {
    case 'svg':
      return Buffer.from(image.svg, 'utf8');
    case 'png':
      return compactPng(rasterize(image));
    case 'webp':
      return sharpOf(rasterize(image)).webp({ quality: 90 }).toBuffer();
    case 'avif':
      return sharpOf(rasterize(image)).avif({ quality: 60 }).toBuffer();
    case 'pdf':
      return toPdf(image);
  }
}
