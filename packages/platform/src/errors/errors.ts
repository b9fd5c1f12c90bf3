import type { ProblemFieldError } from '@datalab/contracts';

/** What went wrong, from the caller's point of view. One kind maps to one HTTP status. */
export type ErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_slow'
  | 'too_large'
  | 'rate_limited'
  | 'unavailable';

export interface AppErrorOptions {
  /** Fields, lines or columns at fault. */
  errors?: ProblemFieldError[];
  /** Extra members added to the problem document (RFC 9457 extensions). */
  extensions?: Record<string, unknown>;
  /** Extra response headers, e.g. `Retry-After`. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** An error meant for the caller: its message is safe to show. */
export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly errors: ProblemFieldError[] | undefined;
  readonly extensions: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(kind: ErrorKind, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.kind = kind;
    this.errors = options.errors;
    this.extensions = options.extensions;
    this.headers = options.headers;
  }
}

export const statusByKind: Readonly<Record<ErrorKind, number>> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_slow: 408,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
};

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
