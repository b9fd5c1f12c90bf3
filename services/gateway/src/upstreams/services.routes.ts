import { ServicesList } from '@datalab/contracts';
import type { App } from '@datalab/platform';
import type { Upstreams } from './upstreams.ts';

export function servicesRoutes(app: App, upstreams: Upstreams): void {
  app.get(
    '/api/v1/services',
    {
      schema: {
        tags: ['operations'],
        summary: 'Every upstream service, its instances and their health.',
        response: { 200: ServicesList },
      },
    },
    async () => ({ services: upstreams.list() }),
  );
}
