import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, JOBS, uploadCsv } from './jobs.fixtures.ts';
import { openEventStream, startEndlessUpload } from './http.fixtures.ts';
import { bearer, startStack, type Stack } from './stack.ts';

/**
 * API4:2023 Unrestricted Resource Consumption — connections that never end must not hold a stop
 * open. The web UI keeps a job event stream open for every job it shows; before, SIGTERM to
 * `datalab up` waited on them for SHUTDOWN_TIMEOUT_MS and exited 1 with "shutdown timed out".
 * Stopping must take under 3 s with event streams, uploads and exports in flight, keep every
 * upload that was answered 201, and leave no trace of one that was not.
 */

const STOP_BUDGET_MS = 3000;

describe('stopping DataLab with streams, uploads and exports in flight', () => {
  let stack: Stack;
  let token: string;
  let user: Awaited<ReturnType<Stack['signedIn']>>['user'];

  beforeAll(async () => {
    stack = await startStack();
    ({ token, user } = await stack.signedIn('editor'));
  });
  afterAll(() => stack?.close());

  it('stops in under 3 s, keeps what was acknowledged, and leaves nothing half-written', async () => {
    const job = await call<{ id: string }>(stack, token, 'POST', JOBS, {
      type: 'noop',
      params: { duration_ms: 600_000 },
    });
    expect(job.status).toBe(201);
    const streams = await Promise.all(
      Array.from({ length: 5 }, () => openEventStream(stack, token, job.body.id)),
    );

    const rows = Array.from({ length: 20_000 }, (_, i) => `${i},${'v'.repeat(40)}`).join('\n');
    await uploadCsv(stack, token, 'acknowledged', `id,value\n${rows}\n`);
    const endless = startEndlessUpload(stack, token, 'never_finished');
    // An export read by nobody: the gateway holds it, paused, when the stop comes.
    const exporting = http.get(`${stack.url}/api/v1/data/datasets/acknowledged/export?format=csv`, {
      headers: bearer(token),
    });
    exporting.on('error', () => {});
    await new Promise((resolve) => setTimeout(resolve, 500));

    const stopped = await stack.restart();

    expect(stopped.exit, stopped.output.slice(-3000)).toEqual({ code: 0, signal: null });
    expect(stopped.output).not.toContain('shutdown timed out');
    expect(stopped.stopMs).toBeLessThan(STOP_BUDGET_MS);
    for (const stream of streams) expect(stream.response.closed).toBe(true);
    endless.destroy();
    exporting.destroy();

    token = await stack.login(user);
    const kept = await fetch(`${stack.url}/api/v1/data/datasets/acknowledged`, { headers: bearer(token) });
    expect(kept.status).toBe(200);
    expect(await kept.json()).toMatchObject({ row_count: 20_000 });
    const unfinished = await fetch(`${stack.url}/api/v1/data/datasets/never_finished`, {
      headers: bearer(token),
    });
    expect(unfinished.status).toBe(404);
  });
});
