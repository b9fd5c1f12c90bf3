import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { principalOf, type App } from '@datalab/platform';
import type { ChartsService } from '../charts/charts.service.ts';
import type { RenderMetrics } from './render.metrics.ts';
import { NotModified, RenderAnswer, RenderBody, RenderQuery, SizeQuery } from './render.schemas.ts';
import type { RenderResult, RenderService } from './render.service.ts';

const tags = ['render'];

/** Renders depend on who asks (their datasets): private, and revalidated every time through the ETag. */
const CACHE_CONTROL = 'private, no-cache';
/** An SVG opened on its own must not run scripts or load anything. */
const SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

export function send(
  reply: FastifyReply,
  result: RenderResult,
  format: string,
  metrics: RenderMetrics,
): FastifyReply {
  void reply
    .header('etag', result.etag)
    .header('cache-control', CACHE_CONTROL)
    .header('x-datalab-cache', result.cache)
    .header('x-content-type-options', 'nosniff');
  if (result.status === 304) return reply.code(304).send();
  if (format === 'svg') void reply.header('content-security-policy', SVG_POLICY);
  metrics.bytesOut(format, result.body!.length);
  return reply.type(result.contentType).send(result.body);
}

const ChartRenderParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  format: Type.Enum(['png', 'svg', 'pdf', 'webp'], {
    description: 'The extension: render.png, render.svg, ...',
  }),
});

export function renderRoutes(
  app: App,
  deps: { render: RenderService; charts: ChartsService; metrics: RenderMetrics },
): void {
  app.post(
    '/api/v1/viz/render',
    {
      schema: {
        tags,
        summary:
          'Render a Vega-Lite spec or a chart-builder chart, its data read from DataLab as the caller.',
        querystring: RenderQuery,
        body: RenderBody,
        response: { 200: RenderAnswer, 304: NotModified },
      },
    },
    async (request, reply) => {
      const { body, query } = request;
      const input = body.chart
        ? { chart: body.chart, pointer: '/body/chart' }
        : { spec: body.spec, pointer: '/body/spec' };
      const result = await deps.render.render(principalOf(request), input, {
        ...query,
        ifNoneMatch: request.headers['if-none-match'],
      });
      return send(reply, result, query.format, deps.metrics);
    },
  );

  app.get(
    '/api/v1/viz/charts/:id/render.:format',
    {
      schema: {
        tags,
        summary: 'Render a saved chart I may read (png, svg, pdf or webp).',
        params: ChartRenderParams,
        querystring: SizeQuery,
        response: { 200: RenderAnswer, 304: NotModified },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const spec = await deps.charts.spec(principal, request.params.id);
      const { format } = request.params;
      const result = await deps.render.render(
        principal,
        { spec, pointer: '/spec' },
        {
          ...request.query,
          format,
          ifNoneMatch: request.headers['if-none-match'],
        },
      );
      return send(reply, result, format, deps.metrics);
    },
  );
}
