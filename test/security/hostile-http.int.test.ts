import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startStack, type Stack } from './stack.ts';

/**
 * Hostile HTTP/1.1 framing sent byte for byte to the gateway over a raw socket: Expect variants,
 * headers named by Connection, conflicting Content-Length and Transfer-Encoding, huge and slow
 * heads, bad chunk sizes, absurd methods and paths, bodies that break off. Each gets a 4xx (a
 * problem+json when anything is answered at all), never a 5xx; none counts against an upstream's
 * health; DataLab keeps answering.
 */

interface RawAnswer {
  /** Every status line the gateway sent, interim (100) ones included. */
  statuses: number[];
  /** The final answer's head and body, as text. */
  text: string;
}

/** Writes `parts` to the gateway (pausing `gapMs` between them), then reads until it closes or `waitMs` passes. */
function exchange(
  stack: Stack,
  parts: (string | Buffer)[],
  { gapMs = 0, waitMs = 3000, endAfter = false } = {},
) {
  return new Promise<RawAnswer>((resolve, reject) => {
    const socket = net.connect(stack.ports.gateway, '127.0.0.1');
    let received = '';
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const statuses = [...received.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
      const final = received.lastIndexOf('HTTP/1.1 ');
      resolve({ statuses, text: final >= 0 ? received.slice(final) : '' });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      // One whole final answer is enough: the test sends one request per connection.
      const final = received.lastIndexOf('HTTP/1.1 ');
      const head = received.slice(final);
      const length = /\r\ncontent-length: (\d+)/i.exec(head);
      const bodyAt = head.indexOf('\r\n\r\n');
      if (
        !head.startsWith('HTTP/1.1 100') &&
        length &&
        bodyAt >= 0 &&
        head.length >= bodyAt + 4 + Number(length[1])
      )
        finish();
    });
    socket.on('close', finish);
    socket.on('error', (error) => (received ? finish() : reject(error)));
    const writeParts = async () => {
      for (const part of parts) {
        if (socket.destroyed) return;
        socket.write(part);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
      if (endAfter) socket.destroy();
    };
    socket.on('connect', () => void writeParts());
  });
}

const finalStatus = (answer: RawAnswer) => answer.statuses.at(-1) ?? 0;

/** A 4xx problem+json answer naming, in its detail, `words`. */
function expectRefusal(answer: RawAnswer, status: number, words?: RegExp): void {
  expect(finalStatus(answer), answer.text).toBe(status);
  expect(answer.text.toLowerCase()).toContain('content-type: application/problem+json');
  if (words) expect(answer.text).toMatch(words);
}

describe('hostile HTTP framing through the gateway', () => {
  let stack: Stack;
  let token: string;
  let admin: string;
  const host = () => `127.0.0.1:${stack.ports.gateway}`;
  const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;
  /** The head of a POST to the SQL query route, with these header lines. */
  const queryHead = (...lines: string[]) =>
    head(['POST /api/v1/data/query HTTP/1.1', `Host: ${host()}`, ...lines]);
  const asEditor = () => `Authorization: Bearer ${token}`;

  beforeAll(async () => {
    stack = await startStack({ PROXY_BODY_LIMIT_BYTES: String(64 * 1024) });
    ({ token } = await stack.signedIn('editor'));
    ({ token: admin } = await stack.signedIn('admin'));
  });
  afterAll(() => stack?.close());

  const query = JSON.stringify({ sql: 'SELECT 1 AS one' });

  it('answers Expect: 100-continue with 100 then the upstream’s answer, and never forwards Expect', async () => {
    const answer = await exchange(stack, [
      queryHead(
        asEditor(),
        'Content-Type: application/json',
        `Content-Length: ${query.length}`,
        'Expect: 100-continue',
      ),
      query,
    ]);
    expect(answer.statuses).toEqual([100, 200]);
  });

  it('refuses an unauthenticated Expect: 100-continue with 401 and no 100', async () => {
    const answer = await exchange(stack, [
      queryHead('Content-Type: application/json', `Content-Length: ${query.length}`, 'Expect: 100-continue'),
    ]);
    expect(answer.statuses).toEqual([401]);
    expectRefusal(answer, 401);
  });

  it('refuses with 413 and no 100 a body announced larger than PROXY_BODY_LIMIT_BYTES', async () => {
    const answer = await exchange(stack, [
      queryHead(
        asEditor(),
        'Content-Type: application/json',
        'Content-Length: 1000000',
        'Expect: 100-continue',
      ),
    ]);
    expect(answer.statuses).toEqual([413]);
    expectRefusal(answer, 413, /65536 bytes \(PROXY_BODY_LIMIT_BYTES\)/);
  });

  it('refuses an expectation other than 100-continue with 417', async () => {
    const answer = await exchange(stack, [queryHead('Content-Length: 2', 'Expect: teapot'), '{}']);
    expectRefusal(answer, 417, /teapot/);
  });

  const CORPUS: [string, (string | Buffer)[], number, RegExp?][] = [
    [
      'Content-Length and Transfer-Encoding together',
      [
        'POST /api/v1/data/query HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ],
      400,
      /Content-Length/i,
    ],
    [
      'two different Content-Lengths',
      ['POST /api/v1/data/query HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}'],
      400,
    ],
    [
      'a chunk size that is not hex',
      [
        'POST /api/v1/data/query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n',
      ],
      400,
      /chunk/i,
    ],
    [
      'a chunk size past 2^64',
      [
        'POST /api/v1/data/query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n',
      ],
      400,
    ],
    [
      'a transfer coding that is not chunked',
      ['POST /api/v1/data/query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n'],
      400,
    ],
    [
      'a 100 KB header',
      [`GET /api/v1/auth/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`],
      431,
      /header size/,
    ],
    ['an absurd method', ['BREWCOFFEE / HTTP/1.1\r\nHost: x\r\n\r\n'], 400],
    ['a method of 10 KB', [`${'A'.repeat(10_000)} / HTTP/1.1\r\nHost: x\r\n\r\n`], 400],
    ['a NUL in the path', ['GET /api/v1/\0data HTTP/1.1\r\nHost: x\r\n\r\n'], 400],
    ['a space-laden request line', ['GET / / / HTTP/1.1\r\nHost: x\r\n\r\n'], 400],
    ['HTTP/9.9', ['GET / HTTP/9.9\r\nHost: x\r\n\r\n'], 400],
    ['a header without a colon', ['GET / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n'], 400],
    ['a bare LF inside a header value', ['GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nb\r\n\r\n'], 400],
  ];

  it.each(CORPUS)('refuses %s with a 4xx problem', async (_name, parts, status, words) => {
    const answer = await exchange(stack, parts);
    expectRefusal(answer, status, words);
  });

  const ODD_BUT_VALID: [string, string][] = [
    ['an asterisk target', 'OPTIONS * HTTP/1.1'],
    ['a path of 8 KB', `GET /api/v1/data/${'x'.repeat(8000)} HTTP/1.1`],
    ['dot segments past the root', 'GET /../../../../etc/passwd HTTP/1.1'],
    ['percent signs that decode to nothing', 'GET /api/v1/data/%%%%zz%ff HTTP/1.1'],
    ['an unusual but known method', 'PROPFIND /api/v1/data/datasets HTTP/1.1'],
    [
      'an absolute-form target to another host',
      'GET http://169.254.169.254/api/v1/data/latest/meta-data HTTP/1.1',
    ],
  ];

  it.each(ODD_BUT_VALID)('answers %s with a 4xx, never a 5xx', async (_name, line) => {
    const answer = await exchange(stack, [head([line, `Host: ${host()}`, `Authorization: Bearer ${token}`])]);
    const status = finalStatus(answer);
    expect(status, answer.text).toBeGreaterThanOrEqual(400);
    expect(status, answer.text).toBeLessThan(500);
  });

  it('drops the headers Connection names before the upstream sees them', async () => {
    // Connection names the credentials: a proxy must treat them as meant for itself only. The
    // gateway reads them (it is the recipient) but passes nothing Connection names upstream.
    const answer = await exchange(stack, [
      head([
        'GET /api/v1/data/datasets HTTP/1.1',
        `Host: ${host()}`,
        `Authorization: Bearer ${token}`,
        'Connection: keep-alive, X-Request-Id',
        'X-Request-Id: from-the-caller',
      ]),
    ]);
    expect(finalStatus(answer), answer.text).toBe(200);
  });

  it('answers 4xx to a body that breaks off mid-upload, and does not blame the data-service', async () => {
    const answer = await exchange(
      stack,
      [
        queryHead(asEditor(), 'Content-Type: application/json', 'Transfer-Encoding: chunked'),
        '5\r\n{"sql\r\n',
        'nothex\r\n',
      ],
      { gapMs: 100 },
    );
    expect(finalStatus(answer), answer.text).toBeGreaterThanOrEqual(400);
    expect(finalStatus(answer), answer.text).toBeLessThan(500);

    // Cut off in the middle of a streamed upload, several times.
    for (let i = 0; i < 5; i++) {
      await exchange(
        stack,
        [
          head([
            'POST /api/v1/data/datasets HTTP/1.1',
            `Host: ${host()}`,
            `Authorization: Bearer ${token}`,
            'Content-Type: multipart/form-data; boundary=b',
            'Content-Length: 10000000',
          ]),
          `--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\na,b\r\n`,
          Buffer.alloc(200_000, 'x'),
        ],
        { gapMs: 50, waitMs: 500, endAfter: true },
      );
    }
  });

  it('holds up under slow heads (slowloris) and still answers others', async () => {
    const slow = Array.from({ length: 50 }, () => {
      const socket = net.connect(stack.ports.gateway, '127.0.0.1');
      socket.on('error', () => {});
      socket.write('GET /api/v1/auth/me HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      return socket;
    });
    try {
      const started = Date.now();
      const response = await fetch(`${stack.url}/api/v1/data/datasets`, { headers: bearer(token) });
      expect(response.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      for (const socket of slow) socket.destroy();
    }
  });

  it('is still alive, every upstream healthy, none blamed for what callers sent', async () => {
    stack.assertAlive();
    const response = await fetch(`${stack.url}/api/v1/services`, { headers: bearer(admin) });
    const { services } = (await response.json()) as {
      services: { name: string; instances: { state: string; last_error?: string }[] }[];
    };
    for (const service of services)
      for (const instance of service.instances) {
        expect(instance.state, service.name).toBe('healthy');
        expect(instance.last_error, service.name).toBeUndefined();
      }
    // No upstream call failed on the gateway's side, whatever callers sent.
    const metrics = await (await fetch(`${stack.url}/metrics`, { headers: bearer(admin) })).text();
    expect(metrics).toContain('gateway_upstream_requests_total{');
    expect(metrics.split('\n').filter((line) => line.includes('outcome="unreachable"'))).toEqual([]);
  });
});
