import {
  closeOnSignal,
  ConfigError,
  connectDatabase,
  createLogger,
  createServiceMetrics,
  exitWithFailure,
  loadCommonConfig,
  loadConfig,
  migrate,
  startPlatform,
  type Env,
  type Logger,
  serveMetrics,
} from '@datalab/platform';
import { computeConfigSchema } from '../config.ts';
import { computeService } from '../definition.ts';
import { createWorkerMetrics } from '../engine/engine.metrics.ts';
import { createDispatcher, startEngine } from '../engine/engine.ts';
import { buildJobTypeRegistry } from '../job-types/registry.ts';
import { jobLimitsFrom } from '../jobs/job-limits.ts';
import { ownerRightsFromConfig } from '../owners/owner-rights.ts';

interface StartedWorker {
  logger: Logger;
  /** How long closing may take before the process gives up. */
  closeTimeoutMs: number;
  close: () => Promise<void>;
}

/** Each step's undo joins `undo`, so a failure halfway closes what was opened. */
async function start(env: Env, undo: (() => Promise<void>)[]): Promise<StartedWorker> {
  const common = loadCommonConfig(env);
  const config = loadConfig(computeConfigSchema, env);
  // Embedded mode has no shared queue: its compute-service runs the jobs itself.
  if (!common.databaseUrl) throw new ConfigError('DATABASE_URL', 'must be set: workers share a PostgreSQL');
  if (!common.redisUrl && common.redisSentinels.length === 0)
    throw new ConfigError('REDIS_URL', 'must be set (or REDIS_SENTINELS): workers share a Redis queue');
  const platform = await startPlatform(common, createLogger({ level: common.logLevel }));
  undo.unshift(platform.close);
  const logger = platform.logger.child({ service: 'compute-worker' });
  const db = await connectDatabase({
    url: platform.databaseUrl,
    readUrl: common.readDatabaseUrl,
    // Job handlers run their owners' SQL (data jobs) on the restricted login, as the data-service does.
    queryUrl: platform.queryDatabaseUrl,
    poolSize: common.databasePoolSize,
    maxMessageBytes: common.databaseMaxMessageBytes,
    connectTimeoutMs: common.databaseConnectTimeoutMs,
    applicationName: 'datalab-worker',
    logger,
  });
  undo.unshift(db.close);
  await migrate(db.pool, { schema: computeService.schema, directory: computeService.migrationsDir, logger });
  const { registry } = createServiceMetrics('compute-worker');
  if (config.workerMetricsPort !== undefined) {
    const metricsServer = await serveMetrics(registry, common.host, config.workerMetricsPort).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE')
          throw new ConfigError('WORKER_METRICS_PORT', `${config.workerMetricsPort} is already in use`);
        throw error;
      },
    );
    undo.unshift(metricsServer.close);
  }
  const owners = ownerRightsFromConfig(config, {
    registry: platform.adapters.registry,
    internalKeys: platform.internalKeys,
    logger,
  });
  undo.unshift(owners.close);
  const deps = {
    pool: db.pool,
    adapters: platform.adapters,
    common,
    config,
    logger,
    types: buildJobTypeRegistry({
      env,
      common,
      db,
      adapters: platform.adapters,
      logger,
      internalKeys: platform.internalKeys,
    }),
    metrics: createWorkerMetrics(registry),
    owners: owners.rights,
    limits: jobLimitsFrom(config),
  };
  const dispatcher = createDispatcher(deps);
  undo.unshift(dispatcher.close);
  const engine = await startEngine(deps, dispatcher, true);
  undo.unshift(() => engine.close(config.workerShutdownGraceMs));
  return {
    logger,
    closeTimeoutMs: config.workerShutdownGraceMs + common.shutdownTimeoutMs,
    close: async () => {
      for (const step of undo) await step();
    },
  };
}

/**
 * `datalab worker`: runs jobs from the shared queue until SIGTERM, then stops
 * taking jobs, lets running ones finish for WORKER_SHUTDOWN_GRACE_MS, hands
 * the rest back and exits 0. It runs the reconciler too, so the jobs of a dead
 * worker come back even while no compute-service runs.
 */
export async function runWorkerProcess(env: Env): Promise<void> {
  const undo: (() => Promise<void>)[] = [];
  let worker: StartedWorker;
  try {
    worker = await start(env, undo);
  } catch (error) {
    for (const step of undo) await step().catch(() => undefined);
    exitWithFailure(error);
  }
  closeOnSignal({ logger: worker.logger, timeoutMs: worker.closeTimeoutMs, close: worker.close });
}
