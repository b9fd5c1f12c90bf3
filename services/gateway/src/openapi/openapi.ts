import { request, type Dispatcher } from 'undici';
import type { Logger } from '@datalab/platform';
import type { UpstreamDefinition, Upstreams } from '../upstreams/upstreams.ts';

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths?: Record<string, unknown>;
  components?: { schemas?: Record<string, unknown> };
  tags?: { name: string }[];
  [extension: `x-${string}`]: unknown;
}

export interface UpstreamDocument {
  definition: Pick<UpstreamDefinition, 'name' | 'prefix'>;
  document: OpenApiDocument | undefined;
}

interface ServiceTag {
  name: string;
  description: string;
  'x-version': string;
}

/** A tag per service, so the docs say which service (and which version) answers. */
function serviceTag(name: string, document: OpenApiDocument): ServiceTag {
  return { name, description: document.info.description ?? name, 'x-version': document.info.version };
}

/**
 * One document for the whole platform: the gateway's own paths plus, from
 * each service, the paths under its public prefix (its operational routes
 * are per instance and stay out). Services that could not be asked are named
 * in `x-datalab-unavailable`.
 */
export function mergeOpenApi(
  gateway: OpenApiDocument,
  upstreams: readonly UpstreamDocument[],
): OpenApiDocument {
  const paths: Record<string, unknown> = { ...gateway.paths };
  const schemas: Record<string, unknown> = { ...gateway.components?.schemas };
  const unavailable: string[] = [];
  const services: ServiceTag[] = [serviceTag('api-gateway', gateway)];
  for (const { definition, document } of upstreams) {
    if (!document) {
      unavailable.push(definition.name);
      continue;
    }
    services.push(serviceTag(definition.name, document));
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      if (path === definition.prefix || path.startsWith(`${definition.prefix}/`)) paths[path] = item;
    }
    Object.assign(schemas, document.components?.schemas);
  }
  // Code-unit order, not localeCompare: the committed docs/openapi.json must not depend on the machine's locale.
  const sortedPaths = Object.fromEntries(
    Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return {
    ...gateway,
    info: {
      ...gateway.info,
      title: 'DataLab API',
      description: 'Every DataLab service, as reached through the api-gateway.',
    },
    tags: [...(gateway.tags ?? []), ...services],
    paths: sortedPaths,
    components: { ...gateway.components, schemas },
    ...(unavailable.length > 0 ? { 'x-datalab-unavailable': unavailable } : {}),
  };
}

const UNAVAILABLE_RETRY_MS = 5000;

export interface OpenApiAggregator {
  /** Fetches the services' documents again (at most every `maxAgeMs`) and merges. */
  document: (own: () => unknown) => Promise<OpenApiDocument>;
  /** The last merged document, for synchronous readers such as the docs UI. */
  current: () => OpenApiDocument | undefined;
}

export function createOpenApiAggregator(options: {
  upstreams: Upstreams;
  dispatcher: Dispatcher;
  maxAgeMs: number;
  logger: Logger;
}): OpenApiAggregator {
  let merged: OpenApiDocument | undefined;
  let fetchedAt = 0;

  const fetchDocument = async (definition: UpstreamDefinition): Promise<UpstreamDocument> => {
    const url = options.upstreams.pick(definition.name);
    if (!url) return { definition, document: undefined };
    try {
      const response = await request(new URL('/openapi.json', url), {
        dispatcher: options.dispatcher,
        signal: AbortSignal.timeout(2000),
      });
      if (response.statusCode !== 200) {
        await response.body.dump();
        return { definition, document: undefined };
      }
      return { definition, document: (await response.body.json()) as OpenApiDocument };
    } catch (error) {
      options.logger.warn(
        { err: error, upstream: definition.name },
        'could not fetch upstream OpenAPI document',
      );
      return { definition, document: undefined };
    }
  };

  let pending: Promise<OpenApiDocument> | undefined;
  const refetch = async (own: () => unknown): Promise<OpenApiDocument> => {
    const documents = await Promise.all(options.upstreams.definitions.map(fetchDocument));
    merged = mergeOpenApi(own() as OpenApiDocument, documents);
    fetchedAt = Date.now();
    return merged;
  };

  return {
    document: async (own) => {
      // A document missing a service is retried sooner, but never on every request.
      const maxAge = merged?.['x-datalab-unavailable'] ? UNAVAILABLE_RETRY_MS : options.maxAgeMs;
      if (merged && Date.now() - fetchedAt < maxAge) return merged;
      pending ??= refetch(own).finally(() => {
        pending = undefined;
      });
      return pending;
    },
    current: () => merged,
  };
}
