import { createServiceServer, type App, type ServiceDeps } from '@datalab/platform';

export async function buildApp(deps: ServiceDeps): Promise<App> {
  return createServiceServer(deps);
}
