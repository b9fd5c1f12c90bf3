import { principalOf, type App } from '@datalab/platform';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { QueryAnswer } from './answers.ts';
import { formatFromAccept } from './formats.ts';
import { ExportParams, FormatQuerystring, QueryBody, QueryResult } from './query.schemas.ts';
import type { QueryService } from './query.service.ts';

const tags = ['query'];
const binary = { schema: Type.String({ format: 'binary' }) };
/** One answer, four media types: the format comes from ?format=, the body's format, or Accept. */
const answer = {
  description:
    'The answer, read whole before it is sent. x-datalab-cache says hit or miss; the x-datalab-truncated header says whether rows were cut at QUERY_MAX_ROWS, as do the JSON body (truncated), Arrow schema metadata and Parquet key-value metadata (datalab.truncated). An answer larger than QUERY_MAX_ANSWER_BYTES (an export: QUERY_EXPORT_MAX_BYTES) is refused with 413.',
  content: {
    'application/json': { schema: QueryResult },
    'text/csv': { schema: Type.String() },
    'application/vnd.apache.arrow.stream': binary,
    'application/vnd.apache.parquet': binary,
  },
};

function send(reply: FastifyReply, result: QueryAnswer): FastifyReply {
  void reply
    .type(result.contentType)
    .header('content-length', result.size)
    .header('x-datalab-cache', result.cached ? 'hit' : 'miss')
    .header('x-datalab-truncated', String(result.truncated));
  if (result.filename) void reply.header('content-disposition', `attachment; filename="${result.filename}"`);
  return reply.send(result.body);
}

export function queryRoutes(app: App, service: QueryService): void {
  app.post(
    '/api/v1/data/query',
    {
      schema: {
        tags,
        summary: 'Query the datasets I may read: a structured query, or one read-only SQL SELECT.',
        description:
          'SQL names datasets as tables (SELECT region, sum(amount) FROM sales GROUP BY region). It must be one SELECT using ordinary functions; it runs read-only, with a time limit and a row cap.',
        body: QueryBody,
        querystring: FormatQuerystring,
        response: { 200: answer },
      },
    },
    async (request, reply) => {
      const format =
        request.query.format ?? request.body.format ?? formatFromAccept(request.headers.accept) ?? 'json';
      return send(reply, await service.run(principalOf(request), request.body, format));
    },
  );

  app.get(
    '/api/v1/data/datasets/:id/export',
    {
      schema: {
        tags,
        summary: 'Download a whole dataset as CSV (default), JSON, Arrow IPC stream or Parquet.',
        params: ExportParams,
        querystring: FormatQuerystring,
        response: { 200: answer },
      },
    },
    async (request, reply) => {
      const format = request.query.format ?? formatFromAccept(request.headers.accept) ?? 'csv';
      return send(reply, await service.exportDataset(principalOf(request), request.params.id, format));
    },
  );
}
