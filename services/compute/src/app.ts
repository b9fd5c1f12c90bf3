import { createServiceServer, type App, type ServiceDeps } from '@datalab/platform';
import type { computeConfigSchema } from './config.ts';
import { createWorkerMetrics, registerQueueGauges } from './engine/engine.metrics.ts';
import { createDispatcher, startEngine, type RunningEngine } from './engine/engine.ts';
import { buildJobTypeRegistry } from './job-types/registry.ts';
import { createJobStreams } from './jobs/jobs.events.ts';
import { jobLimitsFrom } from './jobs/job-limits.ts';
import { createJobsRepository, jobsTransactions } from './jobs/jobs.repository.ts';
import { jobsRoutes } from './jobs/jobs.routes.ts';
import { createJobsService } from './jobs/jobs.service.ts';
import { ownerRightsFromConfig } from './owners/owner-rights.ts';
import { createSchedulesRepository } from './schedules/schedules.repository.ts';
import { schedulesRoutes } from './schedules/schedules.routes.ts';
import { createSchedulesService } from './schedules/schedules.service.ts';

export type ComputeDeps = ServiceDeps<typeof computeConfigSchema>;

/**
 * The jobs and schedules API, and the engine behind it once the service listens (building
 * the app does no I/O). Without Redis the service runs the jobs itself, in
 * process; with Redis, `datalab worker` processes run them.
 */
export async function buildApp(deps: ComputeDeps): Promise<App> {
  const app = await createServiceServer(deps);
  const types = buildJobTypeRegistry({
    env: deps.env ?? {},
    common: deps.common,
    db: deps.db,
    adapters: deps.adapters,
    logger: deps.logger,
    internalKeys: deps.internalKeys,
  });
  const dispatcher = createDispatcher(deps);
  const metrics = createWorkerMetrics(deps.metrics.registry);
  registerQueueGauges(deps.metrics.registry, deps.db.pool);

  const limits = jobLimitsFrom(deps.config);
  const owners = ownerRightsFromConfig(deps.config, {
    registry: deps.adapters.registry,
    internalKeys: deps.internalKeys,
    logger: deps.logger,
  });
  const jobs = createJobsService({
    repository: createJobsRepository(deps.db.pool),
    transaction: jobsTransactions(deps.db.pool),
    limits,
    dispatcher,
    types,
    events: deps.adapters.events,
    logger: deps.logger,
  });
  const streams = createJobStreams(jobs, deps.adapters.events, { pollMs: 2000, keepAliveMs: 15_000 });
  jobsRoutes(app, jobs, streams);
  const schedules = createSchedulesService({
    repository: createSchedulesRepository(deps.db.pool),
    types,
    minIntervalMs: deps.config.scheduleMinIntervalS * 1000,
    perOwner: deps.config.schedulesPerOwner,
    limits,
    owners: owners.rights,
  });
  schedulesRoutes(app, schedules);

  let engine: RunningEngine | undefined;
  app.addHook('onListen', async () => {
    const { adapters, common, config, logger } = deps;
    const engineDeps = {
      pool: deps.db.pool,
      adapters,
      common,
      config,
      logger,
      types,
      metrics,
      owners: owners.rights,
      limits,
    };
    engine = await startEngine(engineDeps, dispatcher, dispatcher.kind === 'in-process');
  });
  // The jobs running here stop with the server: given the same drain time as its requests (and
  // never more than half the shutdown budget), then handed back to the queue to run again.
  let engineClosed: Promise<void> | undefined;
  app.addHook('preClose', async () => {
    const graceMs = Math.min(
      deps.config.workerShutdownGraceMs,
      deps.common.shutdownDrainMs,
      deps.common.shutdownTimeoutMs / 2,
    );
    engineClosed = engine?.close(graceMs);
    await streams.closeAll();
  });
  app.addHook('onClose', async () => {
    await engineClosed;
    await dispatcher.close();
    await owners.close();
  });
  return app;
}
