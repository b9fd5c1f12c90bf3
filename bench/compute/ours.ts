import { INTERNAL_TOKEN_HEADER } from '@datalab/platform';
import { withClient } from '../lib/database.ts';
import type { Stack } from './stack.ts';

const JOBS = '/api/v1/compute/jobs';
/** Internal tokens live 60 s: a long run signs a new one now and then, as the gateway would. */
const TOKEN_REFRESH_MS = 30_000;

export interface RoundResult {
  jobs: number;
  seconds: number;
  jobs_per_s: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Submits `jobs` no-op jobs through `POST /api/v1/compute/jobs` (or `/jobs/batch`,
 * `batch` at a time; `requests` calls in flight, at most `window` jobs unfinished), learns progress from
 * `GET /api/v1/compute/jobs?state=succeeded` and stops the clock when all
 * succeeded. Then checks in PostgreSQL that each ran exactly once.
 */
export async function runOurs(
  stack: Stack,
  jobs: number,
  window: number,
  requests: number,
  batch: number,
): Promise<RoundResult> {
  let caller = await stack.caller();
  let signedAt = Date.now();
  const headers = () => ({ [INTERNAL_TOKEN_HEADER]: caller.token });
  const refresh = async () => {
    if (Date.now() - signedAt < TOKEN_REFRESH_MS) return;
    signedAt = Date.now();
    caller = await stack.caller(caller.principal);
  };
  const one = { type: 'noop', params: {} };
  // `batch` > 1: `POST /jobs/batch` with that many jobs per call (the last call may carry fewer).
  const request = (count: number) =>
    batch === 1
      ? { url: `${stack.computeUrl}${JOBS}`, body: JSON.stringify(one) }
      : { url: `${stack.computeUrl}${JOBS}/batch`, body: JSON.stringify({ jobs: Array(count).fill(one) }) };
  let submitted = 0;
  let done = 0;
  let failure: Error | undefined;

  const submitter = async (): Promise<void> => {
    while (submitted < jobs && !failure) {
      if (submitted - done >= window) {
        await sleep(2);
        continue;
      }
      const count = Math.min(batch, jobs - submitted);
      submitted += count;
      const { url, body } = request(count);
      const response = await fetch(url, {
        method: 'POST',
        headers: { ...headers(), 'content-type': 'application/json' },
        body,
      });
      if (response.status !== 201) failure = new Error(`submit: ${response.status} ${await response.text()}`);
      else await response.arrayBuffer();
    }
  };
  const poller = async (): Promise<void> => {
    while (done < jobs && !failure) {
      await refresh();
      const response = await fetch(`${stack.computeUrl}${JOBS}?state=succeeded&limit=1`, {
        headers: headers(),
      });
      if (response.status !== 200) failure = new Error(`poll: ${response.status} ${await response.text()}`);
      else done = ((await response.json()) as { total: number }).total;
      if (done < jobs) await sleep(20);
    }
  };

  const started = performance.now();
  await Promise.all([poller(), ...Array.from({ length: requests }, submitter)]);
  const seconds = (performance.now() - started) / 1000;
  if (failure) throw failure;

  const check = await withClient(stack.databaseUrl, (client) =>
    client.query<{ n: number; once: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE state = 'succeeded' AND attempts = 1)::int AS once
       FROM compute.jobs WHERE owner_id = $1`,
      [caller.principal.userId],
    ),
  );
  const { n, once } = check.rows[0]!;
  if (n !== jobs || once !== jobs)
    throw new Error(`${n} jobs written, ${once} succeeded at their first attempt; expected ${jobs}`);
  return { jobs, seconds, jobs_per_s: jobs / seconds };
}
