import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/errors.ts';
import type { Principal } from './principal.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the gateway's authentication, or in a service by the internal-token check. */
    principal: Principal | undefined;
  }
}

/** The caller, or 401 when the request is anonymous. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthorized', 'Authentication required');
  return request.principal;
}
