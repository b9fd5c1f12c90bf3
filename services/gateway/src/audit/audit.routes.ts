import type { FastifyRequest } from 'fastify';
import { Problem } from '@datalab/contracts';
import { AppError, principalOf, type App } from '@datalab/platform';
import { AuditPage, AuditQuery } from './audit.schemas.ts';
import type { AuditLog } from './audit.service.ts';

// A preHandler, so it runs after whatever hook of the gateway's authentication set the principal.
async function onlyAdmins(request: FastifyRequest): Promise<void> {
  if (principalOf(request).role !== 'admin')
    throw new AppError('forbidden', 'Only admins may read the audit log');
}

export function auditRoutes(app: App, auditLog: AuditLog): void {
  app.get(
    '/api/v1/admin/audit',
    {
      preHandler: onlyAdmins,
      schema: {
        tags: ['audit'],
        summary: 'API calls and security events, newest first (admins only).',
        querystring: AuditQuery,
        response: { 200: AuditPage, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request) => auditLog.query(request.query),
  );
}
