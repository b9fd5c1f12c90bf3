import {
  createLogger,
  loadCommonConfig,
  loadConfig,
  migrate,
  runProcess,
  runStandalone,
  startPlatform,
  connectDatabase,
  exitWithFailure,
} from '@datalab/platform';
import { runWorkerProcess } from '@datalab/compute-service';
import pkg from '../package.json' with { type: 'json' };
import { allServices, findService } from './services.ts';
import { printBanner, startAll } from './up.ts';
import { ensureWebBuilt } from './web-build.ts';

const USAGE = `Usage: datalab <command>

Commands:
  up                  Run all five services in this process (embedded PostgreSQL when DATABASE_URL is unset).
  serve <service>     Run one service: ${allServices.map((s) => s.name).join(', ')}.
  migrate [service]   Apply pending database migrations (all services by default), then exit.
  worker [--queues a,b] [--concurrency n]
                      Run jobs from the shared queue (needs DATABASE_URL and REDIS_URL) until SIGTERM.
  help                Show this text.

Configuration comes from environment variables; see the README.`;

function fail(message: string): never {
  process.stderr.write(`datalab: ${message}\n`);
  process.exit(1);
}

async function migrateCommand(names: string[]): Promise<void> {
  const targets =
    names.length === 0
      ? allServices
      : names.map((name) => findService(name) ?? fail(`unknown service "${name}"`));
  try {
    const common = loadCommonConfig(process.env);
    const logger = createLogger({ level: common.logLevel });
    const platform = await startPlatform(common, logger);
    try {
      const db = await connectDatabase({
        url: platform.databaseUrl,
        poolSize: 2,
        connectTimeoutMs: common.databaseConnectTimeoutMs,
        applicationName: 'datalab-migrate',
        logger,
      });
      try {
        for (const service of targets) {
          const applied = await migrate(db.pool, {
            schema: service.schema,
            directory: service.migrationsDir,
            logger,
          });
          process.stdout.write(
            `${service.name}: ${applied.length === 0 ? 'up to date' : `applied ${applied.join(', ')}`}\n`,
          );
          const config = loadConfig(service.configSchema, process.env);
          const moved = (await service.migrateData?.({ config, common, db, logger })) ?? [];
          for (const line of moved) process.stdout.write(`${service.name}: ${line}\n`);
        }
      } finally {
        await db.close();
      }
    } finally {
      await platform.close();
    }
  } catch (error) {
    exitWithFailure(error);
  }
}

/** `--queues` and `--concurrency` stand for WORKER_QUEUES and WORKER_CONCURRENCY, which validate them. */
function workerEnv(args: string[]): NodeJS.ProcessEnv {
  const flags: Record<string, string> = {
    '--queues': 'WORKER_QUEUES',
    '--concurrency': 'WORKER_CONCURRENCY',
  };
  const env = { ...process.env };
  for (let i = 0; i < args.length; i++) {
    const [flag = '', inline] = args[i]!.split(/=(.*)/s, 2);
    const variable = flags[flag] ?? fail(`worker: unknown option "${args[i]}"\n\n${USAGE}`);
    const value = inline ?? args[++i] ?? fail(`worker: ${flag} needs a value`);
    env[variable] = value;
  }
  return env;
}

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'up':
    await runProcess(
      process.env,
      (platform) => startAll(platform, process.env),
      (platform, services) => {
        printBanner(platform, services, pkg.version);
        // Built once the services run (a bad configuration builds nothing), without holding them
        // up: the gateway serves the UI as soon as it lands. WEB_DIST_DIR names a UI built elsewhere.
        if (!process.env.WEB_DIST_DIR) {
          ensureWebBuilt(process.stderr).catch((error: unknown) =>
            process.stderr.write(`datalab: ${error instanceof Error ? error.message : String(error)}\n`),
          );
        }
      },
    );
    break;
  case 'serve': {
    const definition =
      findService(rest[0] ?? '') ?? fail(`serve needs one of: ${allServices.map((s) => s.name).join(', ')}`);
    await runStandalone(definition, process.env);
    break;
  }
  case 'worker':
    await runWorkerProcess(workerEnv(rest));
    break;
  case 'migrate':
    await migrateCommand(rest);
    process.exit(0);
    break;
  case undefined:
  case 'help':
  case '--help':
  case '-h':
    process.stdout.write(`${USAGE}\n`);
    break;
  default:
    fail(`unknown command "${command}"\n\n${USAGE}`);
}
