import {
  AppError,
  createServiceClient,
  INTERNAL_TOKEN_HEADER,
  signInternalToken,
  type KeySet,
  type Principal,
  type ServiceClient,
  type ServiceRegistry,
} from '@datalab/platform';

export type UpstreamName = 'data-service' | 'compute-service';

/** Calls another service as a user: an internal token from the ai-service carrying that user. */
export interface Upstream {
  /** Base URL of the service now (configured, else a live instance from the registry). */
  url: () => Promise<string>;
  client: () => Promise<ServiceClient>;
  headers: (principal: Principal) => Promise<Record<string, string>>;
  close: () => Promise<void>;
}

export interface UpstreamOptions {
  name: UpstreamName;
  configuredUrl: string | undefined;
  registry: ServiceRegistry;
  internalKeys: KeySet;
  timeoutMs?: number;
}

export function createUpstream(options: UpstreamOptions): Upstream {
  const clients = new Map<string, ServiceClient>();
  const url = async (): Promise<string> => {
    if (options.configuredUrl) return options.configuredUrl;
    const [instance] = await options.registry.list(options.name);
    if (!instance)
      throw new AppError('unavailable', `${options.name} is not running (no instance in the registry)`);
    return instance.url;
  };
  return {
    url,
    client: async () => {
      const base = await url();
      let client = clients.get(base);
      if (!client) {
        client = createServiceClient({
          name: options.name,
          baseUrl: base,
          timeoutMs: options.timeoutMs ?? 60_000,
        });
        clients.set(base, client);
      }
      return client;
    },
    headers: async (principal) => ({
      [INTERNAL_TOKEN_HEADER]: await signInternalToken(
        options.internalKeys.active,
        principal,
        'ai-service',
        options.name,
      ),
    }),
    close: async () => {
      for (const client of clients.values()) await client.close();
      clients.clear();
    },
  };
}
