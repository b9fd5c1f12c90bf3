import type { Principal } from '@datalab/platform';
import type { Upstream } from './upstreams.ts';

export interface SubmittedJob {
  id: string;
  type: string;
  state: string;
  [key: string]: unknown;
}

/** Submits jobs to the compute-service as the caller, so the job is theirs and runs with their rights. */
export function createComputeClient(upstream: Upstream) {
  return {
    async submit(principal: Principal, type: string, params: Record<string, unknown>): Promise<SubmittedJob> {
      const client = await upstream.client();
      const response = await client.call<SubmittedJob>('POST', '/api/v1/compute/jobs', {
        headers: await upstream.headers(principal),
        body: { type, params },
      });
      return response.body;
    },
  };
}

export type ComputeClient = ReturnType<typeof createComputeClient>;
