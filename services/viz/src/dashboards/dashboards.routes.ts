import { Type } from 'typebox';
import { principalOf, type App } from '@datalab/platform';
import type { RenderMetrics } from '../render/render.metrics.ts';
import { send } from '../render/render.routes.ts';
import { NotModified, RenderAnswer } from '../render/render.schemas.ts';
import type { DashboardRenderer } from './dashboards.render.ts';
import {
  CreateDashboardBody,
  Dashboard,
  DashboardIdParams,
  DashboardList,
  ListDashboardsQuery,
  UpdateDashboardBody,
} from './dashboards.schemas.ts';
import type { DashboardsService } from './dashboards.service.ts';

const tags = ['dashboards'];
const PATH = '/api/v1/viz/dashboards';

const RenderParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  format: Type.Enum(['png', 'pdf', 'svg'], {
    description: 'The extension: render.png, render.pdf or render.svg.',
  }),
});
const RenderSize = Type.Object({
  width: Type.Optional(
    Type.Integer({
      minimum: 200,
      maximum: 8192,
      description: 'Width in CSS pixels. Default 1200; the height follows the grid.',
    }),
  ),
  scale: Type.Number({ minimum: 0.1, maximum: 8, default: 1, description: 'Pixel ratio.' }),
});

export function dashboardsRoutes(
  app: App,
  deps: { dashboards: DashboardsService; renderDashboard: DashboardRenderer; metrics: RenderMetrics },
): void {
  const { dashboards } = deps;
  app.post(
    PATH,
    {
      schema: {
        tags,
        summary: 'Save a dashboard: a grid of my readable charts and text blocks (editors and admins).',
        body: CreateDashboardBody,
        response: { 201: Dashboard },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await dashboards.create(principalOf(request), request.body)),
  );

  app.get(
    PATH,
    {
      schema: {
        tags,
        summary: 'The dashboards I may read: my own and the shared ones (admins: all), newest first.',
        querystring: ListDashboardsQuery,
        response: { 200: DashboardList },
      },
    },
    (request) => dashboards.list(principalOf(request), request.query),
  );

  app.get(
    `${PATH}/:id`,
    {
      schema: {
        tags,
        summary: 'One dashboard, with its layout.',
        params: DashboardIdParams,
        response: { 200: Dashboard },
      },
    },
    (request) => dashboards.get(principalOf(request), request.params.id),
  );

  app.patch(
    `${PATH}/:id`,
    {
      schema: {
        tags,
        summary: 'Change a dashboard (its owner or an admin).',
        params: DashboardIdParams,
        body: UpdateDashboardBody,
        response: { 200: Dashboard },
      },
    },
    (request) => dashboards.update(principalOf(request), request.params.id, request.body),
  );

  app.delete(
    `${PATH}/:id`,
    {
      schema: {
        tags,
        summary: 'Delete a dashboard (its owner or an admin); its charts stay.',
        params: DashboardIdParams,
        response: { 204: Type.Null({ description: 'Deleted.' }) },
      },
    },
    async (request, reply) => {
      await dashboards.delete(principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    `${PATH}/:id/render.:format`,
    {
      schema: {
        tags,
        summary: 'The whole dashboard as one PNG, PDF or SVG; charts I may not read show as unavailable.',
        params: RenderParams,
        querystring: RenderSize,
        response: { 200: RenderAnswer, 304: NotModified },
      },
    },
    async (request, reply) => {
      const { format } = request.params;
      const result = await deps.renderDashboard(principalOf(request), request.params.id, {
        ...request.query,
        format,
        ifNoneMatch: request.headers['if-none-match'],
      });
      return send(reply, result, format, deps.metrics);
    },
  );
}
