import { createServiceServer, type App, type ServiceDeps } from '@datalab/platform';
import { createChartsRepository } from './charts/charts.repository.ts';
import { chartsRoutes } from './charts/charts.routes.ts';
import { createChartsService } from './charts/charts.service.ts';

export async function buildApp(deps: ServiceDeps): Promise<App> {
  const app = await createServiceServer(deps);
  chartsRoutes(app, createChartsService(createChartsRepository(deps.db.pool)));
  return app;
}
