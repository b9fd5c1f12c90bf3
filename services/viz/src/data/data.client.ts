import {
  createBoundedLru,
  createServiceClient,
  INTERNAL_TOKEN_HEADER,
  signInternalToken,
  stringBytes,
  type KeySet,
  type Principal,
  type ServiceClient,
  type ServiceRegistry,
} from '@datalab/platform';

/** What the viz-service needs to know of a dataset: which one, and which version of its rows. */
export interface DatasetRef {
  id: string;
  name: string;
  version: number;
  ownerId: string;
  visibility: 'private' | 'shared';
}

/** The members of the data-service's dataset answer read here. */
interface DatasetAnswer {
  id: string;
  name: string;
  version: number;
  owner_id: string;
  visibility: 'private' | 'shared';
}

export interface QueryAnswer {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  truncated: boolean;
}

export interface DataClientOptions {
  registry: ServiceRegistry;
  /** Used when the registry lists no data-service instance. */
  fallbackUrl: string;
  keys: KeySet;
  timeoutMs: number;
}

const SERVICE = 'data-service';
/** Internal tokens live 60 s; one is reused for 30 s per caller, as the gateway does. */
const TOKEN_REUSE_MS = 30_000;
/** Tokens kept for reuse, by caller: keys are the callers' own, so the bound is in bytes. */
const TOKEN_CACHE_BYTES = 4 * 1024 * 1024;
/** The registry is read at most this often: a render must not cost a Redis round trip for it. */
const INSTANCES_TTL_MS = 2000;

/**
 * Calls the data-service as the caller: every request carries an internal
 * token with the caller's own principal, so the data-service applies the
 * caller's rights (a private dataset of someone else is a 404 here too).
 */
export function createDataClient(options: DataClientOptions) {
  const clients = new Map<string, ServiceClient>();
  const tokens = createBoundedLru<string>({ maxBytes: TOKEN_CACHE_BYTES, sizeOf: stringBytes });
  let instances: { urls: string[]; until: number } = { urls: [], until: 0 };
  let turn = 0;

  async function baseUrl(): Promise<string> {
    if (instances.until < Date.now()) {
      const listed = await options.registry.list(SERVICE).catch(() => []);
      instances = {
        urls: listed.map((instance) => instance.url).sort(),
        until: Date.now() + INSTANCES_TTL_MS,
      };
    }
    if (instances.urls.length === 0) return options.fallbackUrl;
    turn = (turn + 1) % instances.urls.length;
    return instances.urls[turn]!;
  }

  async function client(): Promise<ServiceClient> {
    const url = await baseUrl();
    let found = clients.get(url);
    if (!found) {
      found = createServiceClient({ name: SERVICE, baseUrl: url, timeoutMs: options.timeoutMs });
      clients.set(url, found);
    }
    return found;
  }

  async function tokenFor(principal: Principal): Promise<string> {
    const key = `${principal.userId}|${principal.apiKeyId ?? ''}|${principal.role}|${principal.email}`;
    const cached = tokens.get(key);
    if (cached) return cached;
    const token = await signInternalToken(options.keys.active, principal, 'viz-service', SERVICE);
    tokens.set(key, token, Date.now() + TOKEN_REUSE_MS);
    return token;
  }

  async function headers(principal: Principal): Promise<Record<string, string>> {
    return { [INTERNAL_TOKEN_HEADER]: await tokenFor(principal) };
  }

  return {
    /** The dataset's id and current version, if the caller may read it (else the data-service's 404). */
    async dataset(principal: Principal, idOrName: string): Promise<DatasetRef> {
      const path = `/api/v1/data/datasets/${encodeURIComponent(idOrName)}`;
      const answer = await (
        await client()
      ).call<DatasetAnswer>('GET', path, { headers: await headers(principal) });
      const { id, name, version, owner_id: ownerId, visibility } = answer.body;
      return { id, name, version, ownerId, visibility };
    },

    /** A structured query or `{ sql }`, answered as JSON rows. */
    async query(
      principal: Principal,
      body: Record<string, unknown>,
      signal?: AbortSignal,
    ): Promise<QueryAnswer> {
      const answer = await (
        await client()
      ).call<QueryAnswer>('POST', '/api/v1/data/query?format=json', {
        body,
        headers: await headers(principal),
        ...(signal ? { signal } : {}),
      });
      return answer.body;
    },

    close: async () => {
      await Promise.all([...clients.values()].map((c) => c.close()));
    },
  };
}

export type DataClient = ReturnType<typeof createDataClient>;
