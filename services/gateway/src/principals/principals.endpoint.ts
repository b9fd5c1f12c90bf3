import type { FastifyRequest } from 'fastify';
import { PRINCIPALS_PATH, type PrincipalStatus } from '@datalab/contracts';
import {
  AppError,
  INTERNAL_TOKEN_HEADER,
  verifyInternalToken,
  type App,
  type KeySet,
  type Pool,
} from '@datalab/platform';
import { createPrincipalsRepository, type PrincipalRow } from './principals.repository.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const escaped = PRINCIPALS_PATH.replace(/\//g, '\\/');
/** `GET /internal/v1/principals/{userId}[?api_key={keyId}]`, exactly: nothing else is answered here. */
const ROUTE = new RegExp(`^${escaped}\\/([^/?#]+)(?:\\?([^#]*))?$`);
/** The token's audience: this endpoint is the gateway's own, not one it forwards. */
const AUDIENCE = 'api-gateway';

export interface PrincipalsEndpointDeps {
  pool: Pool;
  /** The internal keys every DataLab process shares: a caller proves it is one of them. */
  internalKeys: KeySet;
}

function uuidOrRefuse(value: string, field: string): string {
  if (!UUID.test(value))
    throw new AppError('invalid', `${field} must be a UUID`, {
      errors: [{ field, message: 'must be a UUID' }],
    });
  return value;
}

/** Only another DataLab process holds the internal key; a user's access token or API key is no use here. */
async function assertFromService(request: FastifyRequest, keys: KeySet): Promise<void> {
  const token = request.headers[INTERNAL_TOKEN_HEADER];
  if (typeof token !== 'string')
    throw new AppError('unauthorized', 'This endpoint is for DataLab services: internal token missing');
  await verifyInternalToken(keys, token, AUDIENCE);
}

function statusOf(row: PrincipalRow, apiKeyId: string | undefined): PrincipalStatus {
  const status: PrincipalStatus = { id: row.id, email: row.email, role: row.role, disabled: row.disabled };
  if (apiKeyId === undefined) return status;
  return {
    ...status,
    api_key: row.key_id && row.key_state ? { id: row.key_id, state: row.key_state } : null,
  };
}

/**
 * `GET /internal/v1/principals/{userId}`: a user's current role and status (and, with
 * `?api_key=`, whether that key of theirs still works), for the other DataLab services — the
 * compute-service asks it when a job or a schedule's tick starts, so work runs with its owner's
 * rights of that moment. The users are the gateway's (its `auth` schema), so it answers.
 *
 * The caller is a service with an internal token for the gateway, not a user: the call is
 * answered in an `onRequest` hook that must be added before the gateway's own authentication,
 * rate limits and access rules, which are about users (a service's lookups must not spend a
 * per-address budget). Answering in the hook ends the request there.
 */
export function principalsEndpoint(app: App, deps: PrincipalsEndpointDeps): void {
  const repository = createPrincipalsRepository(deps.pool);
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'GET') return;
    const match = ROUTE.exec(request.url);
    if (!match) return;
    await assertFromService(request, deps.internalKeys);
    const userId = uuidOrRefuse(match[1]!, '/params/id');
    const asked = new URLSearchParams(match[2] ?? '').get('api_key');
    const apiKeyId = asked === null ? undefined : uuidOrRefuse(asked, '/querystring/api_key');
    const row = await repository.find(userId, apiKeyId);
    if (!row) throw new AppError('not_found', `No user ${userId}`);
    return reply.header('cache-control', 'no-store').send(statusOf(row, apiKeyId));
  });
}
