import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayConfigSchema } from '../../services/gateway/src/config.ts';
import { bodyLimitFor } from '../../services/gateway/src/proxy/body-limit.ts';
import { repoRoot } from '../../test/processes.ts';
import { nginxTest, readNginxConf, selfSignedCertificate, writeLocal } from './lib/nginx.ts';

interface Location {
  modifier: '=' | '~' | '';
  path: string;
  body: string;
}

/** The `location` blocks of the HTTPS server (none of them nests braces). */
function locations(conf: string): Location[] {
  const https = conf.slice(conf.indexOf('listen 443'));
  return [...https.matchAll(/location\s+(=|~)?\s*(\S+)\s*\{([^}]*)\}/g)].map((match) => ({
    modifier: (match[1] ?? '') as Location['modifier'],
    path: match[2]!,
    body: match[3]!,
  }));
}

function matches(location: Location, uri: string): boolean {
  if (location.modifier === '=') return uri === location.path;
  if (location.modifier === '~') return new RegExp(location.path).test(uri);
  return uri.startsWith(location.path);
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
function bytes(size: string): number {
  const match = /^(\d+)([kmg]?)$/i.exec(size);
  if (!match) throw new Error(`not an nginx size: ${size}`);
  return Number(match[1]) * UNITS[match[2]!.toLowerCase()]!;
}

function directive(text: string, name: string): string[] {
  return [...text.matchAll(new RegExp(`^\\s*${name}\\s+([^;{]+);`, 'gm'))].map((match) => match[1]!);
}

describe('infrastructure/nginx/nginx.conf', () => {
  let conf: string;
  let directory: string;

  beforeAll(async () => {
    conf = await readNginxConf();
    directory = await mkdtemp(path.join(os.tmpdir(), 'datalab-nginx-t-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('passes `nginx -t` (Debian nginx), with loopback ports and a certificate made for the test', async () => {
    const { certificate, key } = await selfSignedCertificate(directory);
    const file = await writeLocal({
      directory,
      httpPort: 1080,
      httpsPort: 1443,
      upstreams: ['127.0.0.1:1001', '127.0.0.1:1002'],
      certificate,
      key,
    });
    const output = await nginxTest(file, directory);
    expect(output).toContain('syntax is ok');
    expect(output).toContain('test is successful');
  });

  it('refuses bodies above the gateway’s own limits: 16 MiB in general, 1 GiB on the upload routes', () => {
    const proxyLimit = gatewayConfigSchema.proxyBodyLimitBytes.default;
    const uploadLimit = gatewayConfigSchema.uploadBodyLimitBytes.default;
    const serverLimits = directive(
      conf.slice(conf.indexOf('listen 443')).split(/\n\s*location\s/)[0]!,
      'client_max_body_size',
    );
    expect(serverLimits.map(bytes)).toEqual([proxyLimit]);
    const uploads = locations(conf).filter((l) => directive(l.body, 'client_max_body_size').length > 0);
    for (const upload of uploads) {
      expect(directive(upload.body, 'client_max_body_size').map(bytes)).toEqual([uploadLimit]);
      expect(directive(upload.body, 'proxy_request_buffering')).toEqual(['off']);
    }
    // nginx's upload locations are exactly the routes the gateway treats as uploads.
    const candidates = [
      '/api/v1/data/datasets',
      '/api/v1/data/datasets/sales/versions',
      '/api/v1/ai/models/onnx',
      '/api/v1/data/datasets/sales',
      '/api/v1/data/datasets/sales/versions/2',
      '/api/v1/data/query',
      '/api/v1/ai/models',
      '/api/v1/auth/login',
    ];
    for (const uri of candidates) {
      const nginxUpload = uploads.some((location) => matches(location, uri));
      const gatewayUpload =
        bodyLimitFor('POST', uri, { proxyBodyLimitBytes: proxyLimit, uploadBodyLimitBytes: uploadLimit })
          .bytes === uploadLimit;
      expect(nginxUpload, uri).toBe(gatewayUpload);
    }
  });

  it('streams Server-Sent Events and exports unbuffered, on routes the API really has', async () => {
    const openapi = JSON.parse(await readFile(path.join(repoRoot, 'docs/openapi.json'), 'utf8')) as {
      paths: Record<string, unknown>;
    };
    const routes = Object.keys(openapi.paths).map((route) => route.replace(/\{[^}]+\}/g, 'x1'));
    const streaming = locations(conf).filter((l) => directive(l.body, 'proxy_buffering').includes('off'));
    expect(streaming.length).toBeGreaterThanOrEqual(2);
    expect(streaming.some((l) => matches(l, '/api/v1/compute/jobs/x1/events'))).toBe(true);
    for (const location of streaming) {
      expect(
        routes.filter((route) => matches(location, route)),
        location.path,
      ).not.toEqual([]);
    }
    expect(conf).not.toMatch(/gzip_types[^;]*text\/event-stream/);
  });

  it('retries only failed connections and timeouts, never a gateway’s answer or a non-idempotent call', () => {
    expect(directive(conf, 'proxy_next_upstream')).toEqual(['error timeout']);
    expect(conf).not.toContain('non_idempotent');
    expect(directive(conf, 'server')).toEqual(['api-gateway:8000 max_fails=3 fail_timeout=10s']);
    expect(directive(conf, 'keepalive').map(Number)[0]).toBeGreaterThan(0);
    expect(directive(conf, 'proxy_http_version')).toEqual(['1.1']);
  });

  it('terminates TLS with HTTP/2, compresses, sends security headers and caches hashed assets for a year', () => {
    expect(directive(conf, 'listen')).toContain('443 ssl http2 default_server');
    expect(directive(conf, 'ssl_protocols')).toEqual(['TLSv1.2 TLSv1.3']);
    expect(directive(conf, 'gzip')).toEqual(['on']);
    const headers = directive(conf, 'add_header').map((value) => value.split(/\s+/)[0]);
    expect(headers).toEqual(
      expect.arrayContaining([
        'Strict-Transport-Security',
        'X-Content-Type-Options',
        'X-Frame-Options',
        'Cache-Control',
      ]),
    );
    expect(conf).toMatch(/"~\^200 \/assets\/" "public, max-age=31536000, immutable"/);
  });
});
