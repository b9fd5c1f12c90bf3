import { Type } from 'typebox';
import { principalOf, type App } from '@datalab/platform';
import {
  Chart,
  ChartIdParams,
  ChartList,
  CreateChartBody,
  ListChartsQuery,
  UpdateChartBody,
} from './charts.schemas.ts';
import type { ChartsService } from './charts.service.ts';

const tags = ['charts'];

export function chartsRoutes(app: App, charts: ChartsService): void {
  app.post(
    '/api/v1/viz/charts',
    {
      schema: {
        tags,
        summary: 'Save a chart (editors and admins).',
        body: CreateChartBody,
        response: { 201: Chart },
      },
    },
    async (request, reply) => reply.code(201).send(await charts.create(principalOf(request), request.body)),
  );

  app.get(
    '/api/v1/viz/charts',
    {
      schema: {
        tags,
        summary: 'The charts I may read: my own and the shared ones (admins: all), newest first.',
        querystring: ListChartsQuery,
        response: { 200: ChartList },
      },
    },
    (request) => charts.list(principalOf(request), request.query),
  );

  app.get(
    '/api/v1/viz/charts/:id',
    {
      schema: { tags, summary: 'One chart, with its spec.', params: ChartIdParams, response: { 200: Chart } },
    },
    (request) => charts.get(principalOf(request), request.params.id),
  );

  app.patch(
    '/api/v1/viz/charts/:id',
    {
      schema: {
        tags,
        summary: 'Change a chart (its owner or an admin).',
        params: ChartIdParams,
        body: UpdateChartBody,
        response: { 200: Chart },
      },
    },
    (request) => charts.update(principalOf(request), request.params.id, request.body),
  );

  app.delete(
    '/api/v1/viz/charts/:id',
    {
      schema: {
        tags,
        summary: 'Delete a chart (its owner or an admin).',
        params: ChartIdParams,
        response: { 204: Type.Null({ description: 'Deleted.' }) },
      },
    },
    async (request, reply) => {
      await charts.delete(principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
