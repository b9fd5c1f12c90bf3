import { ConfigError, type ConfigSchema, type Env } from '../config/config.ts';
import { createLogger } from '../logging/logger.ts';
import { closeOnSignal } from '../server/shutdown.ts';
import type { ServiceDefinition } from './definition.ts';
import {
  loadCommonConfig,
  startPlatform,
  startService,
  type Platform,
  type RunningService,
} from './runtime.ts';

/** Start-up failures are one line for a person, never a stack trace. */
export function exitWithFailure(error: unknown): never {
  const message =
    error instanceof ConfigError
      ? `invalid configuration: ${error.message}`
      : `could not start: ${error instanceof Error ? error.message : String(error)}`;
  process.stderr.write(`datalab: ${message}\n`);
  process.exit(1);
}

/**
 * Runs a process: platform (database, adapters) → services → wait for a
 * signal → close services in order, then the platform → exit 0.
 */
export async function runProcess(
  env: Env,
  start: (platform: Platform) => Promise<RunningService[]>,
  onStarted?: (platform: Platform, services: RunningService[]) => void,
): Promise<void> {
  let platform: Platform | undefined;
  let services: RunningService[];
  try {
    const common = loadCommonConfig(env);
    platform = await startPlatform(common, createLogger({ level: common.logLevel }));
    services = await start(platform);
  } catch (error) {
    await platform?.close().catch(() => undefined);
    exitWithFailure(error);
  }
  const running = platform;
  closeOnSignal({
    logger: running.logger,
    timeoutMs: running.common.shutdownTimeoutMs,
    close: async () => {
      // All together, so one stop takes one drain time (SHUTDOWN_DRAIN_MS), not one per service:
      // each stops taking connections at once, and a request arriving on a kept-alive connection
      // meanwhile is answered 503, so no new work starts; the platform closes after them.
      await Promise.all(services.map((service) => service.close()));
      await running.close();
    },
  });
  onStarted?.(running, services);
}

/** One service in its own process: what `datalab serve <name>` and each service's main.ts run. */
export function runStandalone(definition: ServiceDefinition<ConfigSchema>, env: Env): Promise<void> {
  return runProcess(
    env,
    async (platform) => [
      await startService(definition, platform, { env, port: platform.common.port ?? definition.defaultPort }),
    ],
    (_platform, [service]) => {
      for (const notice of service?.notices ?? []) process.stdout.write(`${notice}\n`);
    },
  );
}
