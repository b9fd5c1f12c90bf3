import { Type } from 'typebox';
import type { FastifyReply } from 'fastify';
import { AppError, principalOf, type App } from '@datalab/platform';
import type { ExportRow, ExportsRepository } from './exports.repository.ts';

const binary = Type.String({ format: 'binary' });

function sendFile(reply: FastifyReply, row: ExportRow): FastifyReply {
  return reply
    .type(row.content_type)
    .header('content-disposition', `attachment; filename="${row.filename}"`)
    .header('cache-control', 'private, max-age=31536000, immutable')
    .send(row.bytes);
}

/** What `render` jobs made: readable by the job's owner and admins only. */
export function exportsRoutes(app: App, exports: ExportsRepository): void {
  app.get(
    '/api/v1/viz/exports/:id',
    {
      schema: {
        tags: ['render'],
        summary: 'Download what a render job made (its owner or an admin).',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: {
          200: {
            description: 'The rendered dashboard or chart.',
            content: { 'image/png': { schema: binary }, 'application/pdf': { schema: binary } },
          },
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const row = await exports.findById(request.params.id);
      if (!row || (row.owner_id !== principal.userId && principal.role !== 'admin'))
        throw new AppError('not_found', 'export not found');
      return sendFile(reply, row);
    },
  );
}
