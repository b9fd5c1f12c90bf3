import { Value } from 'typebox/value';
import { PRINCIPALS_PATH, PrincipalStatus, type ServiceName } from '@datalab/contracts';
import type { ServiceRegistry } from '../adapters/registry.ts';
import type { KeySet } from '../auth/keys.ts';
import type { Principal } from '../auth/principal.ts';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '../auth/tokens.ts';
import { AppError, isAppError } from '../errors/errors.ts';
import { createServiceClient, type ServiceClient } from './service-client.ts';

const GATEWAY: ServiceName = 'api-gateway';

/** The base URL of `service`: the configured one, else a live instance from the registry. */
export async function locateService(
  registry: ServiceRegistry,
  service: ServiceName,
  configuredUrl: string | undefined,
): Promise<string> {
  if (configuredUrl) return configuredUrl;
  const [instance] = await registry.list(service);
  if (!instance) throw new AppError('unavailable', `${service} is not running (no instance in the registry)`);
  return instance.url;
}

/**
 * Who a service's internal token names when the service asks on its own account, with no user
 * behind the call: nobody, with the least role, so the token opens nothing a user's would not.
 */
export function servicePrincipal(service: ServiceName): Principal {
  return {
    kind: 'user',
    userId: '00000000-0000-0000-0000-000000000000',
    email: `${service}@datalab.internal`,
    role: 'viewer',
  };
}

export interface PrincipalsClientOptions {
  /** The service asking (the internal token's issuer). */
  caller: ServiceName;
  internalKeys: KeySet;
  /** The gateway's base URL now. */
  gatewayUrl: () => Promise<string>;
  /**
   * Per attempt (one retry). Default 2 s: the gateway answers from one indexed row, and a
   * scheduler pass waits for it while holding its due schedules.
   */
  timeoutMs?: number;
}

/** What the gateway says of a user now (`GET /internal/v1/principals/{id}`), for work started on their behalf. */
export interface PrincipalsClient {
  /**
   * The user's role and status, with that API key's state when `apiKeyId` is given; undefined
   * when there is no such user. Throws `unavailable` when the gateway cannot say.
   */
  status: (userId: string, apiKeyId?: string) => Promise<PrincipalStatus | undefined>;
  close: () => Promise<void>;
}

export function createPrincipalsClient(options: PrincipalsClientOptions): PrincipalsClient {
  const clients = new Map<string, ServiceClient>();
  const clientFor = (baseUrl: string): ServiceClient => {
    let client = clients.get(baseUrl);
    if (!client) {
      client = createServiceClient({
        name: GATEWAY,
        baseUrl,
        timeoutMs: options.timeoutMs ?? 2000,
        retries: 1,
      });
      clients.set(baseUrl, client);
    }
    return client;
  };

  return {
    async status(userId, apiKeyId) {
      const client = clientFor(await options.gatewayUrl());
      const token = await signInternalToken(
        options.internalKeys.active,
        servicePrincipal(options.caller),
        options.caller,
        GATEWAY,
      );
      const query = apiKeyId === undefined ? '' : `?api_key=${encodeURIComponent(apiKeyId)}`;
      let body: unknown;
      try {
        const path = `${PRINCIPALS_PATH}/${encodeURIComponent(userId)}${query}`;
        body = (await client.call('GET', path, { headers: { [INTERNAL_TOKEN_HEADER]: token } })).body;
      } catch (error) {
        if (isAppError(error) && error.kind === 'not_found') return undefined;
        if (isAppError(error) && error.kind === 'unavailable') throw error;
        throw new AppError('unavailable', `${GATEWAY} refused to say who user ${userId} is now`, {
          cause: error,
        });
      }
      // A gateway older than this endpoint answers something else (its web UI, a 401).
      if (!Value.Check(PrincipalStatus, body))
        throw new AppError(
          'unavailable',
          `${GATEWAY} does not answer ${PRINCIPALS_PATH} (an older version?)`,
        );
      return body;
    },
    close: async () => {
      for (const client of clients.values()) await client.close();
      clients.clear();
    },
  };
}
