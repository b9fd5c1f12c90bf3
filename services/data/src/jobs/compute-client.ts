import { setTimeout as sleep } from 'node:timers/promises';
import {
  AppError,
  createServiceClient,
  INTERNAL_TOKEN_HEADER,
  PermanentJobError,
  signInternalToken,
  type Principal,
  type ServiceClient,
} from '@datalab/platform';
import type { DataJobContext } from './job-context.ts';

/** A job as the compute-service's API shows it (the fields a parent job reads). */
export interface ChildJob {
  id: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'dead';
  params: Record<string, unknown>;
  result: unknown;
  error: { message: string } | null;
}

const JOBS = '/api/v1/compute/jobs';
const PAGE = 500;
const POLL_MS = 200;

/**
 * Submits and watches child jobs through the compute-service's own API, as
 * the parent job's owner: children are ordinary jobs (queued, retried,
 * cancelled and listed like any other), possibly run by other workers.
 */
export function computeJobsAs(context: DataJobContext, owner: Principal) {
  const clients = new Map<string, ServiceClient>();

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const [instance] = await context.adapters.registry.list('compute-service');
    if (!instance) throw new Error('No compute-service is running to take the partition jobs');
    let client = clients.get(instance.url);
    if (!client) {
      client = createServiceClient({ name: 'compute-service', baseUrl: instance.url });
      clients.set(instance.url, client);
    }
    const token = await signInternalToken(
      context.internalKeys.active,
      owner,
      'compute-service',
      'compute-service',
    );
    const response = await client.call<T>(method, path, {
      headers: { [INTERNAL_TOKEN_HEADER]: token },
      ...(body === undefined ? {} : { body }),
    });
    return response.body;
  }

  return {
    submit: (type: string, params: Record<string, unknown>): Promise<ChildJob> =>
      call<ChildJob>('POST', JOBS, { type, params }),

    /** The owner's jobs of `type` whose params match `matches` (a parent's children from an earlier attempt). */
    async find(type: string, matches: (params: Record<string, unknown>) => boolean): Promise<ChildJob[]> {
      const found: ChildJob[] = [];
      for (let offset = 0; ; offset += PAGE) {
        const page = await call<{ jobs: ChildJob[]; total: number }>(
          'GET',
          `${JOBS}?type=${encodeURIComponent(type)}&owner=me&limit=${PAGE}&offset=${offset}`,
        );
        found.push(...page.jobs.filter((job) => matches(job.params)));
        if (page.jobs.length < PAGE) return found;
      }
    },

    /**
     * Waits until every job succeeded and returns their results in order. A
     * child that failed for good fails the parent for good; one that died or
     * was cancelled fails this attempt (a retry submits it again).
     */
    async results(ids: readonly string[], signal: AbortSignal, onDone: (done: number) => Promise<void>) {
      const results = new Map<string, unknown>();
      while (results.size < ids.length) {
        for (const id of ids) {
          if (results.has(id)) continue;
          const job = await call<ChildJob>('GET', `${JOBS}/${id}`);
          if (job.state === 'succeeded') {
            results.set(id, job.result);
            await onDone(results.size);
          } else if (job.state === 'failed') {
            throw new PermanentJobError(
              `partition job ${id} failed: ${job.error?.message ?? 'no reason given'}`,
            );
          } else if (job.state === 'dead' || job.state === 'cancelled') {
            throw new Error(`partition job ${id} is ${job.state}`);
          }
        }
        if (results.size < ids.length) await sleep(POLL_MS, undefined, { signal });
      }
      return ids.map((id) => results.get(id));
    },

    /** Best effort: the parent stopped, so its children need not run on. */
    async cancel(ids: readonly string[]): Promise<void> {
      await Promise.all(
        ids.map((id) =>
          call('POST', `${JOBS}/${id}/cancel`).catch((error: unknown) => {
            if (!(error instanceof AppError))
              context.logger.warn({ err: error, job_id: id }, 'could not cancel a child job');
          }),
        ),
      );
    },

    close: async (): Promise<void> => {
      for (const client of clients.values()) await client.close();
    },
  };
}

export type ComputeJobs = ReturnType<typeof computeJobsAs>;
