import type { Visibility } from '../api/types.ts';

/** One tile of a dashboard: a saved chart or a text block, `width` in twelfths of the row, `height` in grid rows. */
export type Tile =
  | { kind: 'chart'; chart_id: string; width: number; height: number }
  | { kind: 'text'; text: string; width: number; height: number };

export interface Dashboard {
  id: string;
  owner_id: string;
  visibility: Visibility;
  title: string;
  description: string;
  tiles: Tile[];
  created_at: string;
  updated_at: string;
}

export interface DashboardSummary {
  id: string;
  owner_id: string;
  visibility: Visibility;
  title: string;
  description: string;
  updated_at: string;
}

interface Cell {
  x: number;
  y: number;
  w: number;
  h: number;
}
type ApiItem = ({ type: 'chart'; chart_id: string } | { type: 'text'; text: string }) & Cell;

export interface ApiLayout {
  columns: number;
  row_height: number;
  items: ApiItem[];
}

export interface ApiDashboard extends DashboardSummary {
  created_at: string;
  layout: ApiLayout;
}

/** The grid the UI lays tiles on: twelve columns of 80-pixel rows. */
export const COLUMNS = 12;
export const ROW_HEIGHT = 80;
export const CHART_ROWS = 5;
export const TEXT_ROWS = 1;

/**
 * The viz-service stores a grid (x, y, w, h per item); the UI edits an ordered
 * list that flows into rows, which is what dragging a tile changes.
 */
export function fromApi(raw: ApiDashboard): Dashboard {
  const scale = COLUMNS / raw.layout.columns;
  const items = [...raw.layout.items].sort((a, b) => a.y - b.y || a.x - b.x);
  return {
    id: raw.id,
    owner_id: raw.owner_id,
    visibility: raw.visibility,
    title: raw.title,
    description: raw.description,
    created_at: raw.created_at,
    updated_at: raw.updated_at,
    tiles: items.map((item) => {
      const width = Math.max(1, Math.min(COLUMNS, Math.round(item.w * scale)));
      return item.type === 'chart'
        ? { kind: 'chart', chart_id: item.chart_id, width, height: item.h }
        : { kind: 'text', text: item.text, width, height: item.h };
    }),
  };
}

export function layoutOf(tiles: Tile[]): ApiLayout {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  const items = tiles.map((tile): ApiItem => {
    const w = Math.max(1, Math.min(COLUMNS, tile.width));
    if (x + w > COLUMNS) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const cell = { x, y, w, h: tile.height };
    x += w;
    rowHeight = Math.max(rowHeight, tile.height);
    return tile.kind === 'chart'
      ? { type: 'chart', chart_id: tile.chart_id, ...cell }
      : { type: 'text', text: tile.text, ...cell };
  });
  return { columns: COLUMNS, row_height: ROW_HEIGHT, items };
}
