import { ServicesList } from '@datalab/contracts';
import type { App } from '@datalab/platform';
import type { Upstreams } from './upstreams.ts';

export function servicesRoutes(app: App, upstreams: Upstreams): void {
  app.get(
    '/api/v1/services',
    {
      schema: {
        tags: ['operations'],
        summary:
          'Every upstream service, its instances and their health; their addresses, ids and errors for admins only.',
        response: { 200: ServicesList },
      },
    },
    async (request) => {
      const services = upstreams.list();
      if (request.principal?.role === 'admin') return { services };
      // Internal addresses and errors tell an attacker where to go next: only states for others.
      return {
        services: services.map((service) => ({
          ...service,
          instances: service.instances.map(({ source, state, last_checked_at }) => ({
            source,
            state,
            ...(last_checked_at ? { last_checked_at } : {}),
          })),
        })),
      };
    },
  );
}
