import cors from '@fastify/cors';
import type { App } from '@datalab/platform';

// API answers are data, never pages: nothing in them may run, frame or load.
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/** Headers every answer carries (OWASP secure headers), plus the CORS allowlist. */
export async function registerHttpPolicies(app: App, corsOrigins: string): Promise<void> {
  const allowed = new Set(
    corsOrigins
      .split(',')
      .map((origin) => origin.trim())
      .filter((origin) => origin !== ''),
  );
  await app.register(cors, {
    origin: (origin, done) => done(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    exposedHeaders: [
      'x-request-id',
      'ratelimit-limit',
      'ratelimit-remaining',
      'ratelimit-reset',
      'retry-after',
    ],
    maxAge: 600,
  });
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'no-referrer');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('cross-origin-resource-policy', 'same-origin');
    if (request.protocol === 'https')
      void reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
    if (!reply.hasHeader('content-security-policy') && !request.url.startsWith('/docs')) {
      void reply.header('content-security-policy', API_CSP);
    }
  });
}
