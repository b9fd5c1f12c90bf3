import CircuitBreaker from 'opossum';
import { Agent, request, errors as undiciErrors, type Dispatcher } from 'undici';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProblemFieldError, ServiceInfo } from '@datalab/contracts';
import { AppError, type ErrorKind } from '../errors/errors.ts';

export interface ServiceClientOptions {
  /** Upstream name used in errors and metrics, e.g. `data-service`. */
  name: string;
  baseUrl: string;
  /** Whole-call budget per attempt. Default 10 s. */
  timeoutMs?: number;
  /** Extra attempts for idempotent calls after a network error or a 502/503/504. Default 2. */
  retries?: number;
  /** Consecutive-failure window after which calls fail fast for `resetMs`. */
  breaker?: { errorThresholdPercentage?: number; volumeThreshold?: number; resetMs?: number };
  dispatcher?: Dispatcher;
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ServiceResponse<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

export interface ServiceClient {
  readonly name: string;
  call: <T>(method: HttpMethod, path: string, options?: CallOptions) => Promise<ServiceResponse<T>>;
  info: () => Promise<ServiceInfo>;
  /** `open` while the upstream is being given a rest. */
  state: () => 'closed' | 'open' | 'half-open';
  close: () => Promise<void>;
}

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const IDEMPOTENT = new Set<HttpMethod>(['GET', 'HEAD', 'PUT', 'DELETE']);
const RETRYABLE_STATUS = new Set([502, 503, 504]);

/** One keep-alive connection pool per process, shared by every client and the gateway's proxy. */
export const sharedAgent = new Agent({ keepAliveTimeout: 10_000, connections: 128, pipelining: 1 });

/** A 5xx or a network failure: counts against the circuit breaker. */
class UpstreamFailure extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

/** The caller gave up (its signal aborted): says nothing about the upstream's health, so never retried or counted. */
class CallerAborted extends Error {}

const kindByStatus: Record<number, ErrorKind> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  408: 'too_slow',
  409: 'conflict',
  413: 'too_large',
  422: 'invalid',
  429: 'rate_limited',
};

interface ProblemLike {
  detail?: string;
  errors?: ProblemFieldError[];
}

async function readBody(response: Dispatcher.ResponseData): Promise<unknown> {
  const type = String(response.headers['content-type'] ?? '');
  if (type.includes('json')) return response.body.json();
  const text = await response.body.text();
  return text;
}

export function createServiceClient(options: ServiceClientOptions): ServiceClient {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = options.retries ?? 2;
  const dispatcher = options.dispatcher ?? sharedAgent;

  const attempt = async (
    method: HttpMethod,
    path: string,
    call: CallOptions,
  ): Promise<ServiceResponse<unknown>> => {
    const hasBody = call.body !== undefined;
    const signal = call.signal
      ? AbortSignal.any([call.signal, AbortSignal.timeout(timeoutMs)])
      : AbortSignal.timeout(timeoutMs);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(new URL(path, options.baseUrl), {
        method,
        dispatcher,
        signal,
        headers: {
          accept: 'application/json',
          ...(hasBody ? { 'content-type': 'application/json' } : {}),
          ...call.headers,
        },
        body: hasBody ? JSON.stringify(call.body) : null,
      });
    } catch (error) {
      if (call.signal?.aborted)
        throw new CallerAborted(`${options.name} call was cancelled`, { cause: error });
      // Connection errors are plain Errors whose `code` (ECONNREFUSED, ...) is what an operator needs.
      const code =
        error instanceof undiciErrors.UndiciError ? error.code : (error as { code?: unknown }).code;
      const reason = typeof code === 'string' ? code : (error as Error).name;
      throw new UpstreamFailure(`${options.name} did not answer (${reason})`, undefined);
    }
    const body = await readBody(response);
    if (response.statusCode >= 500) {
      throw new UpstreamFailure(`${options.name} answered ${response.statusCode}`, response.statusCode);
    }
    return { status: response.statusCode, headers: response.headers, body };
  };

  const breaker = new CircuitBreaker(attempt, {
    timeout: false,
    errorFilter: (error: unknown) => error instanceof CallerAborted,
    errorThresholdPercentage: options.breaker?.errorThresholdPercentage ?? 50,
    volumeThreshold: options.breaker?.volumeThreshold ?? 5,
    resetTimeout: options.breaker?.resetMs ?? 5000,
  });

  const callWithRetries = async (
    method: HttpMethod,
    path: string,
    call: CallOptions,
  ): Promise<ServiceResponse<unknown>> => {
    const attempts = IDEMPOTENT.has(method) ? retries + 1 : 1;
    for (let n = 1; ; n++) {
      try {
        return await breaker.fire(method, path, call);
      } catch (error) {
        if (breaker.opened)
          throw new AppError('unavailable', `${options.name} is unavailable (circuit open)`, {
            cause: error,
          });
        const retryable =
          error instanceof UpstreamFailure &&
          (error.status === undefined || RETRYABLE_STATUS.has(error.status));
        if (!retryable || n >= attempts) {
          const message =
            error instanceof UpstreamFailure || error instanceof CallerAborted
              ? error.message
              : `${options.name} call failed`;
          throw new AppError('unavailable', message, { cause: error });
        }
        await sleep(100 * 2 ** (n - 1) * (0.5 + Math.random()));
      }
    }
  };

  const call = async <T>(
    method: HttpMethod,
    path: string,
    callOptions: CallOptions = {},
  ): Promise<ServiceResponse<T>> => {
    const response = await callWithRetries(method, path, callOptions);
    if (response.status >= 400) {
      const problem = (
        typeof response.body === 'object' && response.body !== null ? response.body : {}
      ) as ProblemLike;
      throw new AppError(
        kindByStatus[response.status] ?? 'invalid',
        problem.detail ?? `${options.name} answered ${response.status}`,
        {
          ...(problem.errors ? { errors: problem.errors } : {}),
        },
      );
    }
    return response as ServiceResponse<T>;
  };

  return {
    name: options.name,
    call,
    info: async () => (await call<ServiceInfo>('GET', '/info')).body,
    state: () => (breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed'),
    close: async () => breaker.shutdown(),
  };
}
