import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, type Spawned } from '../../test/processes.ts';
import { startDataLab, startWorker, until, type RunningDataLab } from './lib/datalab.ts';
import { masterPort, startRedis, startSentinel, type RedisProcess } from './lib/redis-sentinel.ts';

interface Outcome {
  at: number;
  ok: boolean;
}

async function sentinelsAgree(ports: number[], master: number): Promise<boolean> {
  for (const port of ports) {
    const client = new Redis({ port, host: '127.0.0.1' });
    try {
      const info = (await client.call('SENTINEL', 'master', 'datalab')) as string[];
      const field = (name: string) => info[info.indexOf(name) + 1];
      if (
        field('port') !== String(master) ||
        field('num-other-sentinels') !== '2' ||
        field('num-slaves') !== '1'
      )
        return false;
    } finally {
      client.disconnect();
    }
  }
  return true;
}

const hasRedis = ['/usr/bin/redis-server', '/usr/bin/redis-sentinel'].every((file) => existsSync(file));

describe.skipIf(!hasRedis)(
  'Redis Sentinel failover while jobs run and requests flow, for real on loopback',
  () => {
    let dir: string;
    const redis: RedisProcess[] = [];
    let master: RedisProcess;
    let replica: RedisProcess;
    let sentinelPorts: number[];
    let lab: RunningDataLab;
    let worker: Spawned;

    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'datalab-sentinel-'));
      master = await startRedis(dir, await freePort());
      replica = await startRedis(dir, await freePort(), master.port);
      redis.push(master, replica);
      sentinelPorts = [await freePort(), await freePort(), await freePort()];
      for (const port of sentinelPorts) redis.push(await startSentinel(dir, port, master.port));
      // Sentinels find the replica and each other through the master (hello messages every 2 s).
      await until(
        'the Sentinels to know the replica and each other',
        async () => ((await sentinelsAgree(sentinelPorts, master.port)) ? true : undefined),
        30_000,
      );
      lab = await startDataLab(inject('databaseUrl'), {
        REDIS_SENTINELS: sentinelPorts.map((port) => `127.0.0.1:${port}`).join(','),
        REDIS_SENTINEL_NAME: 'datalab',
        RATE_LIMIT_DEFAULT: '100000',
        LOG_LEVEL: 'warn',
      });
      worker = startWorker(lab, { WORKER_CONCURRENCY: '8', LOG_LEVEL: 'info' });
      // The master must die under a running worker, not one still starting (which would refuse to start).
      await until(
        'the worker to start',
        () => (worker?.output().includes('"msg":"worker started"') ? true : undefined),
        120_000,
      );
      // Starting a whole DataLab on a busy two-core machine takes its time.
    }, 240_000);

    afterAll(async () => {
      worker?.child.kill('SIGTERM');
      await worker?.exited;
      await lab?.close();
      for (const process of redis) await process.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    });

    it('fails over to the replica; services reconnect within seconds, no job is lost, no request fails after recovery', async () => {
      const headers = { authorization: `Bearer ${lab.token}`, 'content-type': 'application/json' };
      const requests: Outcome[] = [];
      const accepted: string[] = [];
      let running = true;
      const traffic = (async () => {
        while (running) {
          const response = await fetch(`${lab.gateway}/api/v1/compute/jobs?limit=5`, { headers }).catch(
            () => undefined,
          );
          requests.push({ at: Date.now(), ok: response?.status === 200 });
          await response?.body?.cancel();
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      const submissions = (async () => {
        while (running) {
          const response = await fetch(`${lab.gateway}/api/v1/compute/jobs`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ type: 'noop', params: { duration_ms: 300 } }),
          }).catch(() => undefined);
          requests.push({ at: Date.now(), ok: response?.status === 201 });
          if (response?.status === 201) accepted.push(((await response.json()) as { id: string }).id);
          await new Promise((resolve) => setTimeout(resolve, 150));
        }
      })();

      await new Promise((resolve) => setTimeout(resolve, 2000));
      const killedAt = Date.now();
      await master.kill('SIGKILL');
      await until(
        'the Sentinels to promote the replica',
        async () => ((await masterPort(sentinelPorts[0]!)) === replica.port ? true : undefined),
        30_000,
      );
      const promotedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 6000));
      running = false;
      await Promise.all([traffic, submissions]);

      // Recovered: the moment from which every request succeeded.
      const lastFailure = requests.filter((outcome) => !outcome.ok).at(-1);
      const recoveredAt = lastFailure ? lastFailure.at : killedAt;
      const afterRecovery = requests.filter((outcome) => outcome.at > recoveredAt);
      expect(recoveredAt - promotedAt, 'seconds from promotion to the last failed request').toBeLessThan(
        5000,
      );
      expect(afterRecovery.length).toBeGreaterThan(10);
      expect(afterRecovery.every((outcome) => outcome.ok)).toBe(true);
      expect(accepted.length).toBeGreaterThan(5);

      const states = await until(
        'every accepted job to finish',
        async () => {
          const found = await Promise.all(
            accepted.map(async (id) => {
              const response = await fetch(`${lab.gateway}/api/v1/compute/jobs/${id}`, { headers });
              return ((await response.json()) as { state: string }).state;
            }),
          );
          return found.every((state) => state === 'succeeded') ? found : undefined;
        },
        60_000,
      );
      expect(states).toHaveLength(accepted.length);
      // Its own waits (promotion 30 s, recovery 6 s, the jobs 60 s) exceed the default test budget.
    }, 120_000);
  },
);
