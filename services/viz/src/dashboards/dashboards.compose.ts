import type { SvgChart } from '../render/render.engine.ts';
import type { Layout } from './dashboards.schemas.ts';

/** Space above the grid for the dashboard's title, and between cells. */
export const TITLE_HEIGHT = 48;
export const GAP = 12;
const FONT = 'font-family="DejaVu Sans, sans-serif"';

export interface Cell {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Pixel boxes of a layout item on a dashboard `width` pixels wide. */
export function cellOf(
  layout: Layout,
  item: { x: number; y: number; w: number; h: number },
  width: number,
): Cell {
  const column = (width - GAP) / layout.columns;
  return {
    x: Math.round(GAP + item.x * column),
    y: Math.round(TITLE_HEIGHT + item.y * layout.row_height),
    width: Math.max(16, Math.round(item.w * column - GAP)),
    height: Math.max(16, Math.round(item.h * layout.row_height - GAP)),
  };
}

export function dashboardHeight(layout: Layout): number {
  const rows = Math.max(1, ...layout.items.map((item) => item.y + item.h));
  return TITLE_HEIGHT + rows * layout.row_height + GAP;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Greedy word wrap by an estimated glyph width (0.6 em), the same estimate on every machine. */
function wrap(text: string, width: number, fontSize: number): string[] {
  const perLine = Math.max(1, Math.floor(width / (fontSize * 0.6)));
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/)) {
      const next = line ? `${line} ${word}` : word;
      if (next.length > perLine && line) {
        lines.push(line);
        line = word;
      } else line = next;
    }
    lines.push(line);
  }
  return lines;
}

export function textBlock(text: string, cell: Cell): string {
  const fontSize = 13;
  const lineHeight = Math.round(fontSize * 1.4);
  const lines = wrap(text, cell.width - 16, fontSize).slice(
    0,
    Math.max(1, Math.floor((cell.height - 8) / lineHeight)),
  );
  const spans = lines
    .map(
      (line, i) =>
        `<tspan x="${cell.x + 8}" y="${cell.y + 8 + fontSize + i * lineHeight}">${escapeXml(line)}</tspan>`,
    )
    .join('');
  return `<text ${FONT} font-size="${fontSize}" fill="#333">${spans}</text>`;
}

export function placeholder(message: string, cell: Cell): string {
  return (
    `<rect x="${cell.x}" y="${cell.y}" width="${cell.width}" height="${cell.height}" fill="#f6f6f6" stroke="#ddd"/>` +
    `<text x="${cell.x + cell.width / 2}" y="${cell.y + cell.height / 2}" text-anchor="middle" ${FONT} font-size="12" fill="#888">${escapeXml(message)}</text>`
  );
}

/** A chart's own SVG placed in its cell: the root becomes a nested <svg> at the cell, its viewBox kept. */
export function placed(chart: SvgChart, cell: Cell): string {
  return chart.svg
    .replace(
      /^<svg([^>]*?)\swidth="[\d.]+"([^>]*?)\sheight="[\d.]+"/,
      `<svg$1 x="${cell.x}" y="${cell.y}" width="${cell.width}"$2 height="${cell.height}"`,
    )
    .replace(/^<svg([^>]*?)\sxmlns="[^"]*"/, '<svg$1');
}

export function composeDashboard(title: string, width: number, height: number, parts: string[]): SvgChart {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="${width}" height="${height}" fill="white"/>` +
    `<text x="${GAP}" y="32" ${FONT} font-size="20" font-weight="bold" fill="#222">${escapeXml(title)}</text>` +
    parts.join('') +
    '</svg>';
  return { svg, width, height };
}
