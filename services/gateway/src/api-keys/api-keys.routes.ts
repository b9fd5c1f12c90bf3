import { principalOf, type App } from '@datalab/platform';
import { ApiKey, ApiKeyIdParams, ApiKeyList, CreateApiKeyBody, CreatedApiKey } from './api-keys.schemas.ts';
import type { ApiKeysService } from './api-keys.service.ts';

const tags = ['auth'];

export function apiKeysRoutes(app: App, apiKeys: ApiKeysService): void {
  app.post(
    '/api/v1/auth/api-keys',
    {
      schema: {
        tags,
        summary: 'Create an API key (its secret is shown once).',
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKey },
      },
    },
    async (request, reply) => {
      const context = { principal: principalOf(request), ip: request.ip, requestId: request.id };
      const created = await apiKeys.create(
        context,
        request.body.name,
        request.body.role,
        request.body.expires_at,
      );
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/v1/auth/api-keys',
    { schema: { tags, summary: 'My API keys.', response: { 200: ApiKeyList } } },
    (request) => apiKeys.list(principalOf(request)),
  );

  app.delete(
    '/api/v1/auth/api-keys/:id',
    { schema: { tags, summary: 'Revoke an API key.', params: ApiKeyIdParams, response: { 200: ApiKey } } },
    (request) =>
      apiKeys.revoke(
        { principal: principalOf(request), ip: request.ip, requestId: request.id },
        request.params.id,
      ),
  );
}
