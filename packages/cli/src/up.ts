import path from 'node:path';
import { startService, type Env, type Platform, type RunningService } from '@datalab/platform';
import { allServices } from './services.ts';

const UPSTREAM_VARIABLES: Record<string, string> = {
  'data-service': 'DATA_SERVICE_URL',
  'ai-service': 'AI_SERVICE_URL',
  'compute-service': 'COMPUTE_SERVICE_URL',
  'viz-service': 'VIZ_SERVICE_URL',
};

async function closeAll(services: readonly RunningService[]): Promise<void> {
  await Promise.allSettled(services.map((service) => service.close()));
}

/** All five services in this process: the four behind, then the gateway pointed at them. */
export async function startAll(platform: Platform, env: Env): Promise<RunningService[]> {
  const base = platform.common.port ?? 8000;
  const [gateway, ...behind] = allServices;
  const started = await Promise.allSettled(
    behind.map((definition) =>
      startService(definition, platform, { env, port: base + definition.portOffset }),
    ),
  );
  const services = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    await closeAll(services);
    throw failure.reason;
  }
  const gatewayEnv: Record<string, string | undefined> = { ...env };
  for (const service of services) gatewayEnv[UPSTREAM_VARIABLES[service.name]!] = service.url;
  try {
    const front = await startService(gateway!, platform, { env: gatewayEnv, port: base });
    return [front, ...services];
  } catch (error) {
    await closeAll(services);
    throw error;
  }
}

export function printBanner(platform: Platform, services: readonly RunningService[], version: string): void {
  const [gateway, ...behind] = services;
  const database = platform.embedded
    ? `embedded PostgreSQL, data in ${platform.embedded.dataDirectory} (127.0.0.1:${platform.common.embeddedPostgresPort})`
    : 'PostgreSQL at DATABASE_URL';
  const state = platform.adapters.kind === 'redis' ? 'Redis' : 'in memory (no Redis configured)';
  const lines = [
    '',
    `  DataLab ${version} is running (${platform.mode} mode)`,
    '',
    `  Web UI and API   ${gateway?.url ?? ''}`,
    `  API docs         ${gateway?.url ?? ''}/docs`,
    `  Services         ${behind.map((s) => `${s.name} ${s.url}`).join(', ')}`,
    `  Database         ${database}`,
    `  Cache, events    ${state}`,
    `  Data directory   ${path.resolve(platform.common.dataDir)}`,
    ...services.flatMap((service) => service.notices.map((notice) => `  ${notice}`)),
    '',
    '  Stop with Ctrl-C.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
