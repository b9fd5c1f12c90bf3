import { f } from '@datalab/platform';
import { authConfigSchema } from './auth/auth.config.ts';
import { auditConfigSchema } from './audit/audit.config.ts';
import { httpConfigSchema } from './http/http.config.ts';
import { rateLimitConfigSchema } from './rate-limit/rate-limit.config.ts';
import { webUiConfigSchema } from './web-ui/web-ui.config.ts';

const serviceUrls = (service: string, variable: string, port: number) =>
  f.urlList(
    variable,
    `${service} instances the gateway routes to, comma-separated (also found through the registry).`,
    [`http://127.0.0.1:${port}`],
    ['http', 'https'],
  );

export const gatewayConfigSchema = {
  ...authConfigSchema,
  ...rateLimitConfigSchema,
  ...auditConfigSchema,
  ...httpConfigSchema,
  ...webUiConfigSchema,
  dataServiceUrls: serviceUrls('data-service', 'DATA_SERVICE_URL', 8001),
  aiServiceUrls: serviceUrls('ai-service', 'AI_SERVICE_URL', 8002),
  computeServiceUrls: serviceUrls('compute-service', 'COMPUTE_SERVICE_URL', 8003),
  vizServiceUrls: serviceUrls('viz-service', 'VIZ_SERVICE_URL', 8004),
  gatewayMetricsPort: f.optionalPort(
    'GATEWAY_METRICS_PORT',
    'Port where the gateway serves /metrics (and /health/live) without credentials, for Prometheus; keep it off the ingress. On the API port /metrics and /info are for admins. Unset: none.',
    '(unset)',
  ),
  healthCheckIntervalMs: f.integer(
    'UPSTREAM_HEALTH_INTERVAL_MS',
    'How often the gateway checks each upstream instance.',
    2000,
    100,
  ),
  upstreamConnectTimeoutMs: f.integer(
    'UPSTREAM_CONNECT_TIMEOUT_MS',
    'Give up connecting to an upstream instance after this long.',
    1000,
    50,
  ),
  upstreamConnections: f.integer(
    'UPSTREAM_CONNECTIONS',
    'Connections the gateway keeps to each upstream instance, shared by all callers.',
    256,
    1,
  ),
  upstreamConnectionsPerCaller: f.integer(
    'UPSTREAM_CONNECTIONS_PER_CALLER',
    'Requests one caller (user, or address when anonymous) may have in flight to one upstream at once; more are refused with 429, so no caller takes a whole pool.',
    64,
    1,
  ),
  eventStreamsPerUser: f.integer(
    'EVENT_STREAMS_PER_USER',
    'Job event streams one user may hold open at once (per gateway instance); more are refused with 429.',
    32,
    1,
  ),
  upstreamTimeoutMs: f.integer(
    'UPSTREAM_TIMEOUT_MS',
    'Longest wait for an upstream to start answering (response headers).',
    60000,
    100,
  ),
};
