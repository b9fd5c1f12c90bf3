import { INTERNAL_TOKEN_HEADER } from '@datalab/platform';
import pg from 'pg';
import { withClient } from '../lib/database.ts';
import type { Stack } from './stack.ts';

const JOBS = '/api/v1/compute/jobs';
/** Internal tokens live 60 s: a long run signs a new one now and then, as the gateway would. */
const TOKEN_REFRESH_MS = 30_000;
/** Every `POLL_MS` the oldest `CHECK` pending jobs are looked up, as `celery_noop.py` does. */
const POLL_MS = 10;
const CHECK = 100;

export interface RoundResult {
  jobs: number;
  seconds: number;
  jobs_per_s: number;
}

const FINAL = "'succeeded', 'failed', 'dead', 'cancelled'";

/** The ids in an answer of `POST /jobs` (one job) or `POST /jobs/batch` (`{jobs}`). */
const idsOf = (answer: unknown): string[] =>
  'jobs' in (answer as object)
    ? (answer as { jobs: { id: string }[] }).jobs.map((job) => job.id)
    : [(answer as { id: string }).id];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Submits `jobs` no-op jobs through `POST /api/v1/compute/jobs` (or `/jobs/batch`,
 * `batch` at a time; `requests` calls in flight, at most `window` jobs unfinished) and stops the clock
 * when all succeeded. Completion is read the way the Celery client reads it: every `POLL_MS` the oldest
 * `CHECK` ids still pending are looked up in the result store (here `compute.jobs`), so finding out costs
 * the same on both sides and does not grow with the jobs already done. Then checks in PostgreSQL that each ran exactly once.
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
  /** Submitted, not yet seen finished. */
  const pending = new Set<string>();

  const submitter = async (): Promise<void> => {
    while (submitted < jobs && !failure) {
      if (submitted - done >= window) {
        await sleep(2);
        continue;
      }
      const count = Math.min(batch, jobs - submitted);
      submitted += count;
      await refresh();
      const { url, body } = request(count);
      const response = await fetch(url, {
        method: 'POST',
        headers: { ...headers(), 'content-type': 'application/json' },
        body,
      });
      if (response.status !== 201) failure = new Error(`submit: ${response.status} ${await response.text()}`);
      else for (const id of idsOf(await response.json())) pending.add(id);
    }
  };
  const results = new pg.Client({ connectionString: stack.databaseUrl });
  await results.connect();
  const poller = async (): Promise<void> => {
    while (done < jobs && !failure) {
      const ids = [...pending].slice(0, CHECK);
      const finished =
        ids.length === 0
          ? []
          : (
              await results.query<{ id: string; state: string }>(
                `SELECT id, state FROM compute.jobs WHERE id = ANY($1::uuid[]) AND state IN (${FINAL})`,
                [ids],
              )
            ).rows;
      for (const row of finished) {
        if (row.state !== 'succeeded') failure = new Error(`job ${row.id} ended ${row.state}`);
        pending.delete(row.id);
      }
      done += finished.length;
      if (done < jobs) await sleep(POLL_MS);
    }
  };

  const started = performance.now();
  try {
    await Promise.all([poller(), ...Array.from({ length: requests }, submitter)]);
  } finally {
    await results.end();
  }
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
