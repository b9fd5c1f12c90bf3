import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { Agent, fetch, request } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { newPem, userFactory } from '../../test/gateway.ts';
import { freePort, spawnTs, waitForStatus, type Spawned } from '../../test/processes.ts';
import { readAccessLog, selfSignedCertificate, startNginx, writeLocal } from './lib/nginx.ts';

/**
 * nginx (this repository's config, rendered for loopback) in front of two real gateway
 * processes on the test database. One gateway is killed in the middle of a load run.
 */
describe('nginx in front of two gateways', () => {
  const processes: Spawned[] = [];
  let directory: string;
  let gatewayPorts: number[];
  let gateways: Spawned[];
  let base: string;
  let dispatcher: Agent;
  let ca: string;
  let token: string;

  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'datalab-nginx-'));
    const signingKey = newPem();
    const internalKey = newPem();
    const deadPort = await freePort();
    gatewayPorts = [await freePort(), await freePort()];
    gateways = gatewayPorts.map((port) => {
      const spawned = spawnTs('packages/cli/src/main.ts', ['serve', 'api-gateway'], {
        DATABASE_URL: inject('databaseUrl'),
        PORT: String(port),
        LOG_LEVEL: 'warn',
        DATALAB_DATA_DIR: directory,
        AUTH_SIGNING_KEY: signingKey,
        DATALAB_INTERNAL_KEY: internalKey,
        TRUST_PROXY: '127.0.0.1',
        // This test measures failover, not the rate limiter.
        RATE_LIMIT_DEFAULT: '1000000',
        RATE_LIMIT_LOGIN: '1000',
        RATE_LIMIT_ANONYMOUS: '1000000',
        DATA_SERVICE_URL: `http://127.0.0.1:${deadPort}`,
        AI_SERVICE_URL: `http://127.0.0.1:${deadPort}`,
        COMPUTE_SERVICE_URL: `http://127.0.0.1:${deadPort}`,
        VIZ_SERVICE_URL: `http://127.0.0.1:${deadPort}`,
      });
      processes.push(spawned);
      return spawned;
    });
    const { certificate, key } = await selfSignedCertificate(directory);
    ca = await readFile(certificate, 'utf8');
    const httpsPort = await freePort();
    const file = await writeLocal({
      directory,
      httpPort: await freePort(),
      httpsPort,
      upstreams: gatewayPorts.map((port) => `127.0.0.1:${port}`),
      certificate,
      key,
    });
    const nginx = startNginx(file, directory);
    processes.push(nginx);
    base = `https://127.0.0.1:${httpsPort}`;
    dispatcher = new Agent({ connect: { ca }, connections: 32 });
    for (const [index, port] of gatewayPorts.entries()) {
      // Generous: two gateways compile their sources at once on a shared two-core machine.
      await waitForStatus(`http://127.0.0.1:${port}/health/live`, 200, gateways[index], 150_000);
    }
    const users = await userFactory(inject('databaseUrl'));
    const user = await users.create('viewer');
    await users.close();
    await waitForNginx();
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: user.email, password: user.password }),
      dispatcher,
    });
    expect(login.status).toBe(200);
    token = ((await login.json()) as { access_token: string }).access_token;
  }, 240_000);

  afterAll(async () => {
    for (const spawned of processes)
      if (spawned.child.exitCode === null && spawned.child.signalCode === null) spawned.child.kill('SIGTERM');
    await Promise.all(processes.map((spawned) => spawned.exited));
    await dispatcher?.close();
    await rm(directory, { recursive: true, force: true });
  });

  async function waitForNginx(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const response = await fetch(`${base}/nginx-health`, { dispatcher });
        if (response.status === 200) return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('answers every request of a load run while one gateway is killed in the middle of it', async () => {
    const statuses = new Map<string, number>();
    const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
    const answered = { beforeKill: 0, afterKill: 0 };
    // The kill comes once both gateways have been answering for a while, and the run goes on
    // until as many more requests were answered without it: by count, not by the clock, so a busy
    // machine stretches the run instead of changing what it shows. Bounded either way.
    const killAfter = 40;
    const stopAfter = 80;
    const deadline = Date.now() + 30_000;
    let killed = false;
    const callers = Array.from({ length: 12 }, async () => {
      while (answered.afterKill < stopAfter && Date.now() < deadline) {
        if (!killed && answered.beforeKill >= killAfter) {
          killed = true;
          gateways[0]!.child.kill('SIGKILL');
        }
        const afterKill = killed;
        try {
          const response = await fetch(`${base}/api/v1/auth/me`, {
            headers: { authorization: `Bearer ${token}` },
            dispatcher,
          });
          await response.arrayBuffer();
          count(String(response.status));
          answered[afterKill ? 'afterKill' : 'beforeKill']++;
        } catch (error) {
          count(`error: ${(error as Error).message}`);
        }
      }
    });
    await Promise.all(callers);
    expect(killed, `only ${answered.beforeKill} answers before the deadline`).toBe(true);
    const exit = await gateways[0]!.exited;

    expect(exit.signal).toBe('SIGKILL');
    expect([...statuses.keys()]).toEqual(['200']);
    expect(answered.beforeKill).toBeGreaterThanOrEqual(killAfter);
    expect(answered.afterKill).toBeGreaterThanOrEqual(stopAfter);

    // The access log shows both gateways served, then nginx moving requests off the dead one.
    const lines = (await readAccessLog(directory)).filter((line) => line.uri === '/api/v1/auth/me');
    const [dead, alive] = gatewayPorts.map((port) => `127.0.0.1:${port}`);
    const finalUpstream = (line: { upstream_addr: string }) => line.upstream_addr.split(', ').at(-1);
    expect(lines.some((line) => finalUpstream(line) === dead)).toBe(true);
    expect(lines.some((line) => finalUpstream(line) === alive)).toBe(true);
    const retried = lines.filter((line) => line.upstream_addr === `${dead}, ${alive}`);
    expect(retried.length).toBeGreaterThan(0);
    expect(retried.every((line) => line.status === 200)).toBe(true);
    const afterFirstRetry = lines.slice(lines.indexOf(retried[0]!));
    expect(afterFirstRetry.every((line) => line.status === 200)).toBe(true);
  });

  it('speaks HTTP/2 over TLS and compresses large answers', async () => {
    const session = http2.connect(base, { ca });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':path': '/nginx-health' });
        stream.on('response', (headers) => resolve(Number(headers[':status'])));
        stream.on('error', reject);
        stream.resume();
      });
      expect(status).toBe(200);
      expect(session.alpnProtocol).toBe('h2');
    } finally {
      session.close();
    }
    const response = await request(`${base}/openapi.json`, {
      headers: { 'accept-encoding': 'gzip' },
      dispatcher,
    });
    await response.body.arrayBuffer();
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-encoding']).toBe('gzip');
  });

  it('sends each security header once, and a request id from nginx when the caller sent none', async () => {
    const response = await request(`${base}/api/v1/auth/me`, {
      headers: { authorization: `Bearer ${token}` },
      dispatcher,
    });
    await response.body.arrayBuffer();
    expect(response.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
  });
});
