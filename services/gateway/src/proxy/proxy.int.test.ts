import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callWithTarget, startTestGateway, type TestGateway } from '../../../../test/gateway.ts';
import { freePort } from '../../../../test/processes.ts';

const run = promisify(execFile);
const MB = 1 << 20;
const DOWNLOAD_BYTES = 64 * MB;
/** Megabyte i of the download is filled with the byte i, so a lost or reordered one shows. */
const downloadChunk = (i: number) => Buffer.alloc(MB, i % 256);

function sha256Of(chunks: Iterable<Buffer>): string {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

describe('the gateway proxy streams bodies', () => {
  let gw: TestGateway;
  let token: string;
  let upstream: http.Server;
  let firstBytesAt = 0;
  let seenHeaders: http.IncomingHttpHeaders = {};
  let ready = true;
  /** How far the upstream got with the last download, and whether its caller left before the end. */
  let download = { writtenBytes: 0, leftEarly: false };

  beforeAll(async () => {
    // A plain HTTP server standing where the data-service would: it counts what arrives and when.
    upstream = http.createServer((req, res) => {
      if (req.url === '/health/ready') {
        res.statusCode = ready ? 200 : 503;
        return void res.end(JSON.stringify({ status: ready ? 'ready' : 'not ready' }));
      }
      if (req.url === '/api/v1/data/download') {
        // A large answer of unknown length, written only as fast as the socket takes it.
        const sent = { writtenBytes: 0, leftEarly: false };
        download = sent;
        res.on('close', () => (sent.leftEarly = !res.writableFinished));
        const writeMore = (): void => {
          while (sent.writtenBytes < DOWNLOAD_BYTES) {
            const chunk = downloadChunk(sent.writtenBytes / MB);
            sent.writtenBytes += MB;
            if (!res.write(chunk)) return void res.once('drain', writeMore);
          }
          res.end();
        };
        return writeMore();
      }
      if (req.url === '/api/v1/data/trailed') {
        // A chunked answer that states its truncation after the body, and names a header of its
        // own connection (RFC 9110 §7.6.1) that must not reach the caller.
        res.writeHead(200, {
          'content-type': 'text/csv',
          trailer: 'x-datalab-truncated',
          connection: 'keep-alive, x-upstream-hop',
          'x-upstream-hop': 'for the gateway only',
        });
        res.write('a,b\n1,2\n');
        res.addTrailers({ 'x-datalab-truncated': 'true' });
        return void res.end();
      }
      seenHeaders = req.headers;
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        if (bytes === 0) firstBytesAt = Date.now();
        bytes += chunk.length;
      });
      req.on('end', () => res.end(JSON.stringify({ bytes })));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    // A second configured instance where nothing listens: every connection to it is refused.
    const dead = `http://127.0.0.1:${await freePort()}`;
    gw = await startTestGateway({
      DATA_SERVICE_URL: `${dead},http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      UPSTREAM_HEALTH_INTERVAL_MS: '200',
    });
    token = await gw.login(await gw.createUser('editor'));
  });
  afterAll(async () => {
    await gw.close();
    upstream.close();
  });

  it('still sends calls to the live instance while no readiness check passes, as panic routing does', async () => {
    const states = async () => {
      const answer = await fetch(`${gw.url}/api/v1/services`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const { services } = (await answer.json()) as {
        services: { name: string; instances: { state: string }[] }[];
      };
      return services.find((service) => service.name === 'data-service')?.instances.map((i) => i.state);
    };
    ready = false;
    try {
      await expect.poll(states, { timeout: 5000 }).toEqual(['unhealthy', 'unhealthy']);

      // Both instances are candidates now; a POST that meets the dead one's refusal goes on to the
      // live one, however the calls running beside it moved the round-robin meanwhile.
      const responses = await Promise.all(
        Array.from({ length: 20 }, () =>
          fetch(`${gw.url}/api/v1/data/anything`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}` },
            body: 'x',
          }),
        ),
      );

      expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200));
      for (const response of responses) expect(await response.json()).toEqual({ bytes: 1 });
    } finally {
      ready = true;
      // The streamed upload below cannot be re-sent, so it must not meet the dead instance.
      await expect.poll(states, { timeout: 5000 }).toEqual(['unhealthy', 'healthy']);
    }
  });

  it('passes an upload through while it is still being sent, never holding it whole', async () => {
    const chunk = Buffer.alloc(1 << 20, 7);
    let sentAllAt = 0;
    let waitedForUpstream = false;
    async function* body(): AsyncGenerator<Buffer> {
      yield chunk;
      // Hold the rest back until the upstream has seen the first megabyte.
      for (let i = 0; i < 100 && firstBytesAt === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      waitedForUpstream = firstBytesAt !== 0;
      for (let i = 0; i < 63; i++) yield chunk;
      sentAllAt = Date.now();
    }

    const response = await request(`${gw.url}/api/v1/data/datasets`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', authorization: `Bearer ${token}` },
      body: Readable.from(body()),
    });

    expect(response.statusCode).toBe(200);
    expect(await response.body.json()).toEqual({ bytes: 64 << 20 });
    expect(waitedForUpstream).toBe(true);
    expect(firstBytesAt).toBeLessThan(sentAllAt);
  });

  it('passes a large answer through at the pace the caller reads it, intact', async () => {
    const response = await request(`${gw.url}/api/v1/data/download`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.statusCode).toBe(200);

    // Nobody reads for a while: the gateway must hold the upstream back, not take the answer in.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(download.writtenBytes).toBeLessThan(DOWNLOAD_BYTES / 2);

    const received: Buffer[] = [];
    for await (const chunk of response.body) received.push(chunk as Buffer);
    expect(Buffer.concat(received).length).toBe(DOWNLOAD_BYTES);
    const sent = Array.from({ length: DOWNLOAD_BYTES / MB }, (_, i) => downloadChunk(i));
    expect(sha256Of(received)).toBe(sha256Of(sent));
  });

  it('stops the upstream answer when the caller goes away in the middle of it', async () => {
    const caller = http.get(`${gw.url}/api/v1/data/download`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const response = await new Promise<http.IncomingMessage>((resolve) => caller.once('response', resolve));
    expect(response.statusCode).toBe(200);
    caller.destroy();

    await expect.poll(() => download.leftEarly, { timeout: 5000 }).toBe(true);
    expect(download.writtenBytes).toBeLessThan(DOWNLOAD_BYTES);
  });

  it('sends a request line naming another host to the configured instance, never to that host', async () => {
    let reachedElsewhere = 0;
    const elsewhere = http.createServer((_req, res) => {
      reachedElsewhere += 1;
      res.end('{}');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = elsewhere.address() as AddressInfo;
      const status = await callWithTarget(gw.url, {
        target: `http://127.0.0.1:${port}/api/v1/data/anything`,
        headers: { authorization: `Bearer ${token}` },
      });

      expect(status).toBe(200);
      expect(reachedElsewhere).toBe(0);
    } finally {
      elsewhere.close();
    }
  });

  it("keeps the caller's credentials at the gateway and sends its own internal token instead", async () => {
    const forged = 'eyJhbGciOiJub25lIn0.e30.';
    const response = await fetch(`${gw.url}/api/v1/data/anything`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-datalab-internal-token': forged, cookie: 'a=b' },
      body: 'x',
    });

    expect(response.status).toBe(200);
    expect(seenHeaders.authorization).toBeUndefined();
    expect(seenHeaders.cookie).toBeUndefined();
    expect(seenHeaders['x-datalab-internal-token']).toMatch(/^ey/);
    expect(seenHeaders['x-datalab-internal-token']).not.toBe(forged);
    expect(seenHeaders['x-request-id']).toBe(response.headers.get('x-request-id'));
  });

  it('passes the trailers an upstream announced on to a real client (curl)', async () => {
    const { stdout } = await run('curl', [
      '-s',
      '-D',
      '-',
      '-H',
      `authorization: Bearer ${token}`,
      `${gw.url}/api/v1/data/trailed`,
    ]);

    expect(stdout).toContain('a,b\n1,2\n');
    // curl prints trailers after the body, as it prints headers.
    expect(stdout.slice(stdout.indexOf('1,2'))).toMatch(/^x-datalab-truncated: true\r?$/im);
  });

  it('drops the headers Connection names, in both directions', async () => {
    const sent = await plainCall(gw.url, 'POST', '/api/v1/data/anything', {
      authorization: `Bearer ${token}`,
      connection: 'keep-alive, x-caller-hop',
      'x-caller-hop': 'for the gateway only',
      'x-end-to-end': 'kept',
    });
    expect(sent.status).toBe(200);
    expect(seenHeaders['x-caller-hop']).toBeUndefined();
    expect(seenHeaders['x-end-to-end']).toBe('kept');

    const answered = await plainCall(gw.url, 'GET', '/api/v1/data/trailed', {
      authorization: `Bearer ${token}`,
    });
    expect(answered.status).toBe(200);
    expect(answered.headers['x-upstream-hop']).toBeUndefined();
    expect(answered.headers['content-type']).toBe('text/csv');
  });
});

/** One call with node:http, which sends the headers it is given as they are (fetch refuses `connection`). */
function plainCall(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const call = http.request(new URL(path, base), { method, headers }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers }));
    });
    call.on('error', reject);
    call.end(method === 'GET' ? undefined : 'x');
  });
}
