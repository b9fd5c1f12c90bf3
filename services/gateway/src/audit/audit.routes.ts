import { Problem } from '@datalab/contracts';
import type { App } from '@datalab/platform';
import { onlyAdmins } from '../auth/require-admin.ts';
import { AuditPage, AuditQuery } from './audit.schemas.ts';
import type { AuditLog } from './audit.service.ts';

export function auditRoutes(app: App, auditLog: AuditLog): void {
  app.get(
    '/api/v1/admin/audit',
    {
      onRequest: onlyAdmins('read the audit log'),
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
