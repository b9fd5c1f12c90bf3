import { generatedInternalKeyFile, readSigningKeyFile, signInternalToken } from '@datalab/platform';
import { eventually } from '../processes.ts';
import { bearer, type Stack } from './stack.ts';

/** What the jobs suites share: calls through the gateway as one caller, and waiting on conditions. */

export const JOBS = '/api/v1/compute/jobs';
export const SCHEDULES = '/api/v1/compute/schedules';

/** The gateway's rate budgets out of the way: these suites test the compute-service's own limits. */
export const UNLIMITED_RATES = {
  RATE_LIMIT_DEFAULT: '1000000',
  RATE_LIMIT_EXPENSIVE: '1000000',
  RATE_LIMIT_ANONYMOUS: '1000000',
};

export interface Answer<T> {
  status: number;
  type: string;
  body: T;
}

/** A call through the gateway with a bearer token (an access token or an API key). */
export async function call<T = Record<string, unknown>>(
  stack: Stack,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer<T>> {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: bearer(token, body !== undefined),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: (text ? JSON.parse(text) : undefined) as T,
  };
}

export { eventually };

export interface JobView {
  id: string;
  state: string;
  owner_id: string;
  priority: number;
  created_at: string;
  result: unknown;
  error: { message: string } | null;
}

const FINAL = new Set(['succeeded', 'failed', 'dead', 'cancelled']);

/** The job once it has reached a final state. */
export function finished(stack: Stack, token: string, id: string, timeoutMs = 60_000): Promise<JobView> {
  return eventually(
    `job ${id} to finish`,
    async () => {
      const job = (await call<JobView>(stack, token, 'GET', `${JOBS}/${id}`)).body;
      return FINAL.has(job.state) ? job : undefined;
    },
    timeoutMs,
  );
}

/** How many jobs this caller owns (all states). */
export async function jobCount(stack: Stack, token: string): Promise<number> {
  const answer = await call<{ total: number }>(stack, token, 'GET', `${JOBS}?owner=me&limit=1`);
  return answer.body.total;
}

/** An admin changes a user's role or status through the admin API. */
export async function changeUser(
  stack: Stack,
  adminToken: string,
  userId: string,
  change: { role?: string; disabled?: boolean },
): Promise<void> {
  const answer = await call(stack, adminToken, 'PATCH', `/api/v1/admin/users/${userId}`, change);
  if (answer.status !== 200) throw new Error(`PATCH user: ${answer.status} ${JSON.stringify(answer.body)}`);
}

/** An API key of the signed-in caller: its secret and id. */
export async function apiKey(
  stack: Stack,
  token: string,
  role?: string,
): Promise<{ id: string; key: string }> {
  const answer = await call<{ id: string; key: string }>(stack, token, 'POST', '/api/v1/auth/api-keys', {
    name: `jobs-suite-${Date.now()}`,
    ...(role ? { role } : {}),
  });
  if (answer.status !== 201) throw new Error(`API key: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** A dataset of the caller, from a small CSV. */
export async function uploadCsv(
  stack: Stack,
  token: string,
  name: string,
  csv: string,
): Promise<{ id: string; name: string }> {
  const form = new FormData();
  form.append('name', name);
  form.append('file', new Blob([csv]), `${name}.csv`);
  const response = await fetch(`${stack.url}/api/v1/data/datasets`, {
    method: 'POST',
    headers: bearer(token),
    body: form,
  });
  if (response.status !== 201) throw new Error(`upload: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { dataset: { id: string; name: string } }).dataset;
}

/**
 * An internal token as a DataLab process signs one (with the stack's generated internal key),
 * addressed to `audience`: what a service holds, and what an attacker who stole one would replay.
 */
export async function internalToken(stack: Stack, audience: string, issuer = 'compute-service') {
  const key = await readSigningKeyFile(generatedInternalKeyFile(stack.dataDir), 'DATALAB_DATA_DIR');
  const principal = {
    kind: 'user' as const,
    userId: '00000000-0000-4000-8000-000000000000',
    email: 'suite@example.test',
    role: 'admin' as const,
  };
  return signInternalToken(key, principal, issuer, audience);
}
