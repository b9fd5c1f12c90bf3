import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEventStream, startEndlessUpload, type OpenedStream } from './http.fixtures.ts';
import { call, JOBS, UNLIMITED_RATES } from './jobs.fixtures.ts';
import { bearer, expectProblem, startStack, type Stack } from './stack.ts';

/**
 * API4:2023 Unrestricted Resource Consumption — connections held open. Each job event stream
 * holds one of the gateway's connections to the compute-service for as long as it is open; before,
 * nothing bounded them, and 260 streams of one user took all 256, so every caller's compute calls
 * hung. A user's streams are now bounded (EVENT_STREAMS_PER_USER), and so is any caller's share of
 * an upstream's connections (UPSTREAM_CONNECTIONS_PER_CALLER of UPSTREAM_CONNECTIONS).
 */

const STREAMS_PER_USER = 3;
const POOL = 12;
const PER_CALLER = 4;

const asProblem = (opened: OpenedStream) =>
  expectProblem(
    new Response(opened.body, { status: opened.status, headers: { 'content-type': opened.type } }),
    429,
  );

describe('open event streams and upstream connections per caller', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      ...UNLIMITED_RATES,
      EVENT_STREAMS_PER_USER: String(STREAMS_PER_USER),
      UPSTREAM_CONNECTIONS: String(POOL),
      UPSTREAM_CONNECTIONS_PER_CALLER: String(PER_CALLER),
    });
  });
  afterAll(() => stack?.close());

  it('refuses a user’s stream past EVENT_STREAMS_PER_USER with 429 naming it, and takes one again once one closes', async () => {
    const { token } = await stack.signedIn('editor');
    const job = await call<{ id: string }>(stack, token, 'POST', JOBS, {
      type: 'noop',
      params: { duration_ms: 600_000 },
    });
    expect(job.status).toBe(201);
    const open = await Promise.all(
      Array.from({ length: STREAMS_PER_USER }, () => openEventStream(stack, token, job.body.id)),
    );
    try {
      expect(open.map((stream) => stream.status)).toEqual(open.map(() => 200));

      const problem = await asProblem(await openEventStream(stack, token, job.body.id));
      expect(problem.detail).toContain('EVENT_STREAMS_PER_USER');
      expect(problem.limit).toBe('EVENT_STREAMS_PER_USER');

      open[0]!.close();
      await expect
        .poll(async () => {
          const again = await openEventStream(stack, token, job.body.id);
          again.close();
          return again.status;
        })
        .toBe(200);
    } finally {
      for (const stream of open) stream.close();
    }
  });

  it('refuses a caller past its share of an upstream’s connections, while others still get through', async () => {
    const hog = await stack.signedIn('editor');
    // Uploads that never finish each hold a connection to the data-service.
    const uploads = Array.from({ length: PER_CALLER }, (_, i) =>
      startEndlessUpload(stack, hog.token, `held_${i}`),
    );
    try {
      // Every upload's head has reached the gateway and gone on by now; none is answered.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const refused = await expectProblem(
        await fetch(`${stack.url}/api/v1/data/datasets`, { headers: bearer(hog.token) }),
        429,
      );
      expect(refused.limit).toBe('UPSTREAM_CONNECTIONS_PER_CALLER');
      expect(refused.detail).toContain('UPSTREAM_CONNECTIONS_PER_CALLER');

      const other = await stack.signedIn('viewer');
      const started = Date.now();
      const answer = await fetch(`${stack.url}/api/v1/data/datasets`, {
        headers: bearer(other.token),
        signal: AbortSignal.timeout(10_000),
      });
      expect(answer.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      for (const upload of uploads) upload.destroy();
    }
    await expect
      .poll(
        async () => (await fetch(`${stack.url}/api/v1/data/datasets`, { headers: bearer(hog.token) })).status,
      )
      .toBe(200);
  });

  it('gives a caller’s share back when the caller hangs up before its call reaches the proxy', async () => {
    const { token } = await stack.signedIn('editor');
    const { port } = new URL(stack.url);
    // Each request's head arrives with the end of its connection: the caller is gone while the
    // gateway still checks who it is, before the proxy takes a share for it.
    for (let i = 0; i < PER_CALLER * 3; i++) {
      const socket = net.connect(Number(port), '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.end(`GET /api/v1/data/datasets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
      await new Promise((resolve) => socket.once('close', resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    const answers = await Promise.all(
      Array.from({ length: PER_CALLER }, () =>
        fetch(`${stack.url}/api/v1/data/datasets`, { headers: bearer(token) }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
  });
});
