import { AppError, type Principal } from '@datalab/platform';
import type { ChartsService } from '../charts/charts.service.ts';
import { renderKey } from '../render/render.cache.ts';
import type { Prepared, RenderResult, RenderService } from '../render/render.service.ts';
import {
  cellOf,
  composeDashboard,
  dashboardHeight,
  placed,
  placeholder,
  textBlock,
} from './dashboards.compose.ts';
import type { DashboardsService } from './dashboards.service.ts';

export const DEFAULT_DASHBOARD_WIDTH = 1200;

export interface DashboardRenderOptions {
  format: 'png' | 'pdf' | 'svg';
  width?: number | undefined;
  scale: number;
  ifNoneMatch?: string | undefined;
}

type Slot = { kind: 'chart'; prepared: Prepared } | { kind: 'unavailable'; message: string };

/** Why a chart cannot be shown, in words safe for anyone who may read the dashboard. */
function unavailable(error: unknown): Slot {
  if (!(error instanceof AppError) || error.kind === 'unavailable') throw error;
  return {
    kind: 'unavailable',
    message:
      error.kind === 'not_found' ? 'Chart unavailable' : `Chart not drawn: ${error.message.slice(0, 80)}`,
  };
}

/**
 * A whole dashboard as one image or PDF. Each chart is read and its data
 * fetched as the viewer: a chart or dataset the viewer may not read shows as
 * "Chart unavailable", never as its contents.
 */
export function createDashboardRenderer(deps: {
  dashboards: DashboardsService;
  charts: ChartsService;
  render: RenderService;
}) {
  return async (principal: Principal, id: string, options: DashboardRenderOptions): Promise<RenderResult> => {
    const dashboard = await deps.dashboards.readable(principal, id);
    const { layout } = dashboard;
    const width = options.width ?? DEFAULT_DASHBOARD_WIDTH;
    const height = dashboardHeight(layout);
    deps.render.assertPixels({ format: options.format, width, height, scale: options.scale });

    const slots: (Slot | undefined)[] = await Promise.all(
      layout.items.map(async (item, i) => {
        if (item.type !== 'chart') return undefined;
        try {
          const spec = await deps.charts.spec(principal, item.chart_id);
          return {
            kind: 'chart',
            prepared: await deps.render.prepare(principal, {
              spec,
              pointer: `/layout/items/${i}`,
            }),
          };
        } catch (error) {
          return unavailable(error);
        }
      }),
    );
    const key = renderKey({
      spec: {
        dashboard: { title: dashboard.title, layout },
        charts: slots.map((slot) => (slot?.kind === 'chart' ? slot.prepared.spec : (slot?.message ?? null))),
      },
      data: slots.flatMap((slot) => (slot?.kind === 'chart' ? slot.prepared.resolved.versions : [])),
      format: options.format,
      width,
      height,
      scale: options.scale,
    });

    return deps.render.respond(key, { ...options, width, height }, async () => {
      const parts: string[] = [];
      for (const [i, item] of layout.items.entries()) {
        const cell = cellOf(layout, item, width);
        const slot = slots[i];
        if (item.type === 'text') parts.push(textBlock(item.text, cell));
        else if (slot?.kind === 'chart')
          parts.push(
            await deps.render
              .draw(slot.prepared, options.format, cell.width, cell.height)
              .then((chart) => placed(chart, cell))
              .catch((error: unknown) => {
                const shown = unavailable(error);
                return placeholder(shown.kind === 'unavailable' ? shown.message : '', cell);
              }),
          );
        else parts.push(placeholder(slot?.kind === 'unavailable' ? slot.message : 'Chart unavailable', cell));
      }
      const svg = composeDashboard(dashboard.title, width, height, parts);
      return deps.render.encodeSvg(svg, options.format, { scale: options.scale });
    });
  };
}

export type DashboardRenderer = ReturnType<typeof createDashboardRenderer>;
