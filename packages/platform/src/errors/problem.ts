import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Problem, ProblemFieldError } from '@datalab/contracts';
import { isAppError, statusByKind, type ErrorKind } from './errors.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const kindByStatus: Readonly<Record<number, ErrorKind>> = Object.fromEntries(
  Object.entries(statusByKind).map(([kind, status]) => [status, kind as ErrorKind]),
);

export function problemDocument(
  request: FastifyRequest,
  status: number,
  detail: string,
  kind: string,
  errors?: ProblemFieldError[],
): Problem {
  return {
    type: `urn:datalab:problem:${kind}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    instance: request.url.split('?')[0] ?? request.url,
    request_id: request.id,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

export function sendProblem(reply: FastifyReply, problem: Problem & Record<string, unknown>): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** Fastify's schema validation errors, turned into one entry per field at fault. */
function validationErrors(error: FastifyError): ProblemFieldError[] {
  const context = error.validationContext ?? 'body';
  return (error.validation ?? []).map((issue) => {
    const missing = (issue.params as { missingProperty?: string } | undefined)?.missingProperty;
    const path = `${issue.instancePath}${missing ? `/${missing}` : ''}`;
    return { field: `/${context}${path}`, message: issue.message ?? 'is invalid' };
  });
}

/**
 * The one error handler: typed errors keep their message; Fastify's own 4xx
 * errors (validation, body too large, bad JSON) are translated; anything else
 * is a 500 whose details stay in the log.
 */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isAppError(error)) {
    const status = statusByKind[error.kind];
    if (error.headers) void reply.headers(error.headers);
    const problem = {
      ...problemDocument(request, status, error.message, error.kind, error.errors),
      ...error.extensions,
    };
    return sendProblem(reply, problem);
  }
  if (error.validation) {
    const errors = validationErrors(error);
    const detail = `Request ${error.validationContext ?? 'body'} is invalid: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`;
    return sendProblem(reply, problemDocument(request, 400, detail, 'invalid', errors));
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 400 && status < 500) {
    const kind = kindByStatus[status] ?? 'invalid';
    return sendProblem(reply, problemDocument(request, status, error.message, kind));
  }
  request.log.error({ err: error }, 'request failed');
  const detail = 'The server could not complete the request. Quote the request id when reporting it.';
  return sendProblem(reply, problemDocument(request, status >= 500 ? status : 500, detail, 'internal'));
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split('?')[0] ?? request.url;
  return sendProblem(
    reply,
    problemDocument(request, 404, `No route for ${request.method} ${path}`, 'not_found'),
  );
}
