import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestGateway, type TestGateway } from '../../../../test/gateway.ts';

describe('gateway HTTP policies: body limits, security headers, CORS', () => {
  let gw: TestGateway;
  let token: string;
  let upstream: http.Server;
  let received = 0;

  beforeAll(async () => {
    // Stands where the data-service would, and counts the bytes that reach it.
    upstream = http.createServer((req, res) => {
      if (req.url === '/health/ready') return void res.end('{}');
      req.on('data', (chunk: Buffer) => (received += chunk.length));
      req.on('end', () => res.end('{}'));
      req.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    gw = await startTestGateway({
      DATA_SERVICE_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      PROXY_BODY_LIMIT_BYTES: String(64 * 1024),
      UPLOAD_BODY_LIMIT_BYTES: String(1024 * 1024),
      CORS_ORIGINS: 'https://app.example.test',
    });
    token = await gw.login(await gw.createUser('editor'));
  });
  afterAll(async () => {
    await gw.close();
    upstream.close();
  });

  async function post(path: string, bytes: number, chunked: boolean) {
    const data = Buffer.alloc(bytes, 1);
    return request(`${gw.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: chunked ? Readable.from([data.subarray(0, bytes / 2), data.subarray(bytes / 2)]) : data,
    });
  }

  it('refuses a declared body over the limit with 413 before sending anything upstream', async () => {
    received = 0;
    const response = await post('/api/v1/data/query', 128 * 1024, false);
    expect(response.statusCode).toBe(413);
    expect(((await response.body.json()) as { detail: string }).detail).toMatch(/larger than 65536 bytes/);
    expect(received).toBe(0);
  });

  it('stops a chunked body once it passes the limit, answering 413', async () => {
    const response = await post('/api/v1/data/query', 256 * 1024, true);
    expect(response.statusCode).toBe(413);
    await response.body.dump();
  });

  it('gives uploads their own, larger limit', async () => {
    const ok = await post('/api/v1/data/datasets', 512 * 1024, true);
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
    const over = await post('/api/v1/data/datasets', 2 * 1024 * 1024, false);
    expect(over.statusCode).toBe(413);
    await over.body.dump();
  });

  it('sends the security headers on every answer', async () => {
    const answer = await call(`${gw.url}/api/v1/auth/me`, { token });
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(answer.headers.get('x-frame-options')).toBe('DENY');
    expect(answer.headers.get('referrer-policy')).toBe('no-referrer');
    expect(answer.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('allows only the configured origins across origins', async () => {
    const preflight = (origin: string) =>
      fetch(`${gw.url}/api/v1/auth/me`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
    const allowed = await preflight('https://app.example.test');
    const refused = await preflight('https://evil.example.test');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.test');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });
});
