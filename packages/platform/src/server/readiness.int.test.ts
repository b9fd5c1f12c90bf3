import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../../../../test/helpers.ts';
import { startTcpProxy, throughProxy, type TcpProxy } from '../../../../test/tcp-proxy.ts';
import { connectDatabase, type Database } from '../db/database.ts';
import { createServiceMetrics } from '../metrics/metrics.ts';
import { connectRedis, type RedisConnection } from '../redis/redis.ts';
import { createServer, type App } from './server.ts';
import type { DependencyCheck } from './health.ts';

function buildServer(dependencies: DependencyCheck[]): Promise<App> {
  return createServer({
    service: 'data-service',
    version: 'test',
    instanceId: 'readiness-test',
    description: 'readiness test',
    logger: silentLogger,
    metrics: createServiceMetrics('data-service'),
    dependencies,
    bodyLimit: 1024,
  });
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('readiness follows PostgreSQL', () => {
  let proxy: TcpProxy;
  let db: Database;
  let app: App;

  beforeAll(async () => {
    const url = new URL(inject('databaseUrl'));
    proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    db = await connectDatabase({
      url: throughProxy(inject('databaseUrl'), proxy),
      poolSize: 2,
      connectTimeoutMs: 1000,
      applicationName: 'readiness-test',
      logger: silentLogger,
    });
    app = await buildServer(db.dependencies);
  });
  afterAll(async () => {
    await app.close();
    await db.close();
    await proxy.close();
  });

  it('answers 200 while PostgreSQL answers', async () => {
    const response = await app.inject('/health/ready');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      status: 'ready',
      dependencies: [{ name: 'postgres', status: 'up' }],
    });
  });

  it('answers 503 naming postgres when it becomes unreachable, and 200 again when it returns', async () => {
    proxy.cut();
    const down = await app.inject('/health/ready');
    expect(down.statusCode).toBe(503);
    expect(down.headers['content-type']).toContain('application/problem+json');
    expect(down.json()).toMatchObject({ status: 503, dependencies: [{ name: 'postgres', status: 'down' }] });
    expect(down.json<{ detail: string }>().detail).toMatch(/postgres is down/);

    proxy.restore();
    await waitFor(async () => (await app.inject('/health/ready')).statusCode === 200);
  });

  it('keeps liveness at 200 whatever the dependencies do', async () => {
    proxy.cut();
    const live = await app.inject('/health/live');
    proxy.restore();
    expect(live.statusCode).toBe(200);
  });
});

describe.skipIf(!inject('redisUrl'))('readiness follows Redis', () => {
  let proxy: TcpProxy;
  let redis: RedisConnection;
  let app: App;

  beforeAll(async () => {
    const url = new URL(inject('redisUrl')!);
    proxy = await startTcpProxy(url.hostname, Number(url.port || 6379));
    redis = await connectRedis({
      url: throughProxy(inject('redisUrl')!, proxy),
      sentinels: [],
      sentinelName: 'mymaster',
      connectTimeoutMs: 1000,
      logger: silentLogger,
    });
    app = await buildServer([redis.dependency]);
  });
  afterAll(async () => {
    await app.close();
    await redis.close();
    await proxy.close();
  });

  it('answers 503 naming redis when it becomes unreachable, and 200 again once it reconnects', async () => {
    expect((await app.inject('/health/ready')).statusCode).toBe(200);

    proxy.cut();
    const down = await app.inject('/health/ready');
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ dependencies: [{ name: 'redis', status: 'down' }] });

    proxy.restore();
    await waitFor(async () => (await app.inject('/health/ready')).statusCode === 200);
  });
});

describe('/info', () => {
  it('names the service, its version, its instance and its dependencies', async () => {
    const app = await buildServer([{ name: 'postgres', check: async () => undefined }]);
    const info = (await app.inject('/info')).json<Record<string, unknown>>();
    await app.close();
    expect(info).toMatchObject({
      name: 'data-service',
      version: 'test',
      instance_id: 'readiness-test',
      dependencies: [{ name: 'postgres', status: 'up' }],
    });
  });
});
