import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../../../test/gateway.ts';

const INDEX =
  '<!doctype html><title>DataLab</title><script type="module" src="/assets/app-1a2b3c.js"></script>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

describe('the gateway serves the built web UI', () => {
  let dist: string;
  let gw: TestGateway;

  beforeAll(async () => {
    dist = await mkdtemp(path.join(os.tmpdir(), 'datalab-web-dist-'));
    await mkdir(path.join(dist, 'assets'));
    await writeFile(path.join(dist, 'index.html'), INDEX);
    await writeFile(path.join(dist, 'assets', 'app-1a2b3c.js'), SCRIPT);
    gw = await startTestGateway({ WEB_DIST_DIR: dist });
  });
  afterAll(async () => {
    await gw.close();
    await rm(dist, { recursive: true, force: true });
  });

  const get = (url: string, headers: Record<string, string> = {}) => request(`${gw.url}${url}`, { headers });

  it('answers / with the app page, its CSP and the usual security headers, without credentials', async () => {
    const response = await get('/');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers['content-security-policy']).toMatch(/script-src 'self';/);
    expect(response.headers['content-security-policy']).not.toMatch(/unsafe-eval/);
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(await response.body.text()).toBe(INDEX);
  });

  it('answers client-side routes with the app page, so a reload of /datasets/abc works', async () => {
    for (const route of ['/datasets', '/datasets/3f1c', '/charts/new?dataset=sales', '/login']) {
      const response = await get(route);
      expect(response.statusCode, route).toBe(200);
      expect(await response.body.text()).toBe(INDEX);
    }
  });

  it('sends hashed assets compressed, cached for a year, and 304 when unchanged', async () => {
    const first = await get('/assets/app-1a2b3c.js', { 'accept-encoding': 'gzip, br' });
    expect(first.statusCode).toBe(200);
    expect(first.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(first.headers['content-type']).toMatch(/^text\/javascript/);
    expect(first.headers['content-encoding']).toBe('br');
    const body = Buffer.from(await first.body.arrayBuffer());
    expect(body.length).toBeLessThan(SCRIPT.length);
    expect(brotliDecompressSync(body).toString()).toBe(SCRIPT);

    const plain = await get('/assets/app-1a2b3c.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(await plain.body.text()).toBe(SCRIPT);

    const again = await get('/assets/app-1a2b3c.js', { 'if-none-match': String(first.headers.etag) });
    expect(again.statusCode).toBe(304);
    await again.body.dump();
  });

  it('answers a missing asset with 404, not the app page', async () => {
    const response = await get('/assets/missing-0000.js');
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/problem\+json/);
    await response.body.dump();
  });

  it('leaves the API, docs, health and metrics to their own routes', async () => {
    const api = await get('/api/v1/no-such-thing');
    expect(api.statusCode).toBe(401);
    expect(api.headers['content-type']).toMatch(/problem\+json/);
    expect(api.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    await api.body.dump();
    const health = await get('/health/live');
    expect(health.statusCode).toBe(200);
    expect(health.headers['content-type']).toMatch(/json/);
    await health.body.dump();
    const docs = await get('/openapi.json');
    expect(((await docs.body.json()) as { openapi: string }).openapi).toMatch(/^3\./);
  });

  it('never lets a disguised API path pass as a public UI page', async () => {
    for (const url of [
      '/%61pi/v1/admin/users',
      '//api/v1/admin/users',
      '/x/../api/v1/admin/users',
      '/./api/v1/auth/me',
    ]) {
      const response = await get(url);
      expect(response.statusCode, url).not.toBe(200);
      expect(await response.body.text(), url).not.toContain('DataLab');
    }
  });

  it('serves no file outside the build, whatever the path says', async () => {
    for (const url of [
      '/../package.json',
      '/assets/../../package.json',
      '/assets/%2e%2e/index.html',
      '/etc/passwd',
    ]) {
      const response = await get(url);
      const text = await response.body.text();
      expect(text, url).not.toContain('"workspaces"');
      expect(text, url).not.toContain('root:');
    }
  });
});

describe('the gateway before and after a build of the web UI', () => {
  let dist: string;
  let gw: TestGateway;

  beforeAll(async () => {
    dist = await mkdtemp(path.join(os.tmpdir(), 'datalab-web-unbuilt-'));
    gw = await startTestGateway({ WEB_DIST_DIR: dist });
  });
  afterAll(async () => {
    await gw.close();
    await rm(dist, { recursive: true, force: true });
  });

  async function page(): Promise<{ status: number; text: string }> {
    const response = await request(`${gw.url}/datasets`);
    return { status: response.statusCode, text: await response.body.text() };
  }

  it('says how to build the UI while there is none, then serves each new build as it lands', async () => {
    const before = await page();
    expect(before.status).toBe(503);
    expect(before.text).toMatch(/not built yet.*npm run build:web/s);

    await writeFile(path.join(dist, 'index.html'), INDEX);
    await expect.poll(page, { timeout: 5000, interval: 300 }).toEqual({ status: 200, text: INDEX });

    const rebuilt = INDEX.replace('app-1a2b3c', 'app-4d5e6f');
    await mkdir(path.join(dist, 'assets'));
    await writeFile(path.join(dist, 'assets', 'app-4d5e6f.js'), SCRIPT);
    await writeFile(path.join(dist, 'index.html'), rebuilt);
    await expect.poll(page, { timeout: 5000, interval: 300 }).toEqual({ status: 200, text: rebuilt });
    const asset = await request(`${gw.url}/assets/app-4d5e6f.js`);
    expect(asset.statusCode).toBe(200);
    expect(await asset.body.text()).toBe(SCRIPT);
  });
});
