import { STATUS_CODES } from 'node:http';
import { afterAll, beforeAll, expect } from 'vitest';
import { uniqueName } from '../../../../test/helpers.ts';
import {
  bearer,
  expectProblem,
  startStack,
  type Problem,
  type Stack,
} from '../../../../test/security/stack.ts';

/**
 * The contract suite's one way to talk to DataLab: over HTTP, through the gateway, as a user who
 * logged in. Nothing here knows how the data-service stores rows, so the suite holds across an
 * engine rewrite.
 */

/** The suite makes many calls and logins per minute from one address; the rate limits are not under test. */
const CONTRACT_ENV = {
  RATE_LIMIT_LOGIN: '10000',
  RATE_LIMIT_DEFAULT: '100000',
  RATE_LIMIT_EXPENSIVE: '100000',
  // Two cores shared by many test runs: a start must not fail on a slow first connection.
  DATABASE_CONNECT_TIMEOUT_MS: '30000',
};

export const DATA = '/api/v1/data';
export const DATASETS = `${DATA}/datasets`;

/** What `POST /datasets` and `POST /datasets/:id/versions` answer. */
export interface DatasetView {
  id: string;
  name: string;
  description: string;
  owner_id: string;
  visibility: 'private' | 'shared';
  columns: { name: string; original_name: string; type: string }[];
  row_count: number;
  bytes: number;
  version: number;
  source_format: string;
  created_at: string;
  updated_at: string;
}

export interface Upload {
  dataset: DatasetView;
  rows_written: number;
  rejects: {
    count: number;
    first: { line: number; column?: string; value?: string; expected?: string; message: string }[];
    download: string | null;
  };
}

export interface QueryAnswer {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  row_count: number;
  truncated: boolean;
}

/** A user of one role, signed in through the gateway's login. */
export interface Caller {
  id: string;
  role: 'admin' | 'editor' | 'viewer';
  /** Any call, with this user's bearer token. */
  call: (path: string, init?: RequestInit) => Promise<Response>;
  /** A JSON call (body sent as JSON when given). */
  send: (method: string, path: string, body?: unknown) => Promise<Response>;
  /** POST /datasets with the file last, after the option fields. */
  upload: (file: Blob | string, filename: string, fields?: Record<string, string>) => Promise<Response>;
  /** POST /datasets/:id/versions. */
  addVersion: (
    id: string,
    file: Blob | string,
    filename: string,
    fields?: Record<string, string>,
  ) => Promise<Response>;
  /** POST /query, with `?format=` when given. */
  query: (body: unknown, format?: string) => Promise<Response>;
}

/** A multipart body with option fields first and the file last (the order the upload reads them in). */
export function uploadForm(file: Blob | string, filename: string, fields: Record<string, string> = {}) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', typeof file === 'string' ? new Blob([file]) : file, filename);
  return form;
}

export async function signIn(stack: Stack, role: Caller['role']): Promise<Caller> {
  const { user, token } = await stack.signedIn(role);
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${stack.url}${path}`, {
      ...init,
      headers: { ...bearer(token), ...(init.headers as Record<string, string> | undefined) },
    });
  const send = (method: string, path: string, body?: unknown) =>
    call(path, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
  return {
    id: user.id,
    role,
    call,
    send,
    upload: (file, filename, fields) =>
      call(DATASETS, { method: 'POST', body: uploadForm(file, filename, fields) }),
    addVersion: (id, file, filename, fields) =>
      call(`${DATASETS}/${id}/versions`, { method: 'POST', body: uploadForm(file, filename, fields) }),
    query: (body, format) => send('POST', `${DATA}/query${format ? `?format=${format}` : ''}`, body),
  };
}

/** The body of an answer that must be JSON with this status; fails the test (showing the body) otherwise. */
export async function jsonOf<T>(response: Response, status = 200): Promise<T> {
  const text = await response.text();
  expect(
    { status: response.status, type: response.headers.get('content-type'), body: text.slice(0, 800) },
    'the answer',
  ).toMatchObject({ status, type: expect.stringMatching(/^application\/json/) as unknown });
  return JSON.parse(text) as T;
}

/** The error kinds the platform's one error handler names in `type`, by status. */
const KINDS: Record<number, string> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
};

/**
 * An RFC 9457 answer with this status, its type and title those of the status, and a detail
 * matching `detail` (text it contains, or a pattern).
 */
export async function refusal(response: Response, status: number, detail: string | RegExp): Promise<Problem> {
  const problem = await expectProblem(response, status);
  expect(problem).toMatchObject({
    type: `urn:datalab:problem:${KINDS[status]}`,
    title: STATUS_CODES[status],
  });
  expect(problem.detail).toEqual(
    typeof detail === 'string' ? expect.stringContaining(detail) : expect.stringMatching(detail),
  );
  return problem;
}

/** A fresh dataset name for one test. */
export const fresh = (prefix: string): string => uniqueName(prefix);

/** Uploads a file as a new dataset and answers what the upload said (201 required). */
export async function created(
  caller: Caller,
  file: Blob | string,
  filename: string,
  fields: Record<string, string> = {},
): Promise<Upload> {
  return jsonOf<Upload>(await caller.upload(file, filename, fields), 201);
}

/** The answer rows of a SQL query in JSON (200 required). */
export async function rowsOf(caller: Caller, sql: string): Promise<unknown[][]> {
  return (await jsonOf<QueryAnswer>(await caller.query({ sql }))).rows;
}

/** Names of the datasets `caller` sees in the list whose names start with `prefix`. */
export async function listedNames(caller: Caller, prefix: string): Promise<string[]> {
  const list = await jsonOf<{ datasets: DatasetView[] }>(
    await caller.call(`${DATASETS}?search=${encodeURIComponent(prefix)}&limit=500`),
  );
  return list.datasets.map((dataset) => dataset.name).sort();
}

/** A job as `GET /api/v1/compute/jobs/:id` answers it. */
export interface Job {
  id: string;
  type: string;
  owner_id: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'dead';
  attempts: number;
  params: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: { message: string; kind: string; attempt: number } | null;
}

const FINAL = new Set<Job['state']>(['succeeded', 'failed', 'cancelled', 'dead']);

/** Submits a job as `caller` (201 required) and polls it until it ends. */
export async function runJob(caller: Caller, type: string, params: Record<string, unknown>): Promise<Job> {
  const submitted = await jsonOf<Job>(
    await caller.send('POST', '/api/v1/compute/jobs', { type, params }),
    201,
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    const job = await jsonOf<Job>(await caller.call(`/api/v1/compute/jobs/${submitted.id}`));
    if (FINAL.has(job.state)) return job;
    if (Date.now() > deadline) throw new Error(`job ${type} still ${job.state} after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A value `beforeAll` fills in; using it earlier is a mistake in the test, and says so. */
function late<T extends object>(what: string): { value: T; fill: (value: T) => void } {
  let filled: T | undefined;
  const value = new Proxy({} as T, {
    get: (_target, key) => {
      if (!filled) throw new Error(`${what} is used before beforeAll made it`);
      return Reflect.get(filled, key) as unknown;
    },
  });
  return { value, fill: (made) => (filled = made) };
}

/**
 * One DataLab (`datalab up`) for a test file, with `env` added to its settings, and one signed-in
 * user per entry of `roles` (name → role). Started before the file's first test, stopped after its
 * last; the handles can be destructured at once and are live from the first test on.
 */
export function contractSuite<const R extends Record<string, Caller['role']>>(
  roles: R,
  env: Record<string, string> = {},
): { stack: Stack } & { [Name in keyof R]: Caller } {
  const stack = late<Stack>('the stack');
  const callers = Object.keys(roles).map((name) => [name, late<Caller>(name)] as const);
  let started: Stack | undefined;
  beforeAll(async () => {
    started = await startStack({ ...CONTRACT_ENV, ...env });
    stack.fill(started);
    const signed = await Promise.all(Object.values(roles).map((role) => signIn(started!, role)));
    callers.forEach(([, caller], i) => caller.fill(signed[i]!));
  });
  afterAll(() => started?.close());
  const named = Object.fromEntries(callers.map(([name, caller]) => [name, caller.value]));
  return { stack: stack.value, ...named } as { stack: Stack } & { [Name in keyof R]: Caller };
}
