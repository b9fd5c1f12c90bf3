import type { UpstreamDefinition } from './upstreams.ts';

/** Which public prefix goes to which service. */
export const ROUTES = [
  { name: 'data-service', prefix: '/api/v1/data' },
  { name: 'ai-service', prefix: '/api/v1/ai' },
  { name: 'compute-service', prefix: '/api/v1/compute' },
  { name: 'viz-service', prefix: '/api/v1/viz' },
] as const;

export interface UpstreamUrls {
  dataServiceUrls: readonly string[];
  aiServiceUrls: readonly string[];
  computeServiceUrls: readonly string[];
  vizServiceUrls: readonly string[];
}

export function upstreamDefinitions(config: UpstreamUrls): UpstreamDefinition[] {
  const urls = {
    'data-service': config.dataServiceUrls,
    'ai-service': config.aiServiceUrls,
    'compute-service': config.computeServiceUrls,
    'viz-service': config.vizServiceUrls,
  };
  return ROUTES.map((route) => ({ ...route, staticUrls: urls[route.name] }));
}
