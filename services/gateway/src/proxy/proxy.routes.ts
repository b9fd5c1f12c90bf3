import type { App } from '@datalab/platform';
import { proxyRequest, type ProxyOptions } from './proxy.ts';

/**
 * `/api/v1/<service>/*` → that service. The bodies are not parsed here: the
 * catch-all content-type parser leaves the raw stream for the proxy.
 */
export async function proxyRoutes(
  app: App,
  proxyOptions: Omit<ProxyOptions, 'openEventStreams'>,
): Promise<void> {
  const options: ProxyOptions = { ...proxyOptions, openEventStreams: new Set() };
  // Event streams never end by themselves: closing ends them at once (the client reconnects to
  // an instance still running) rather than waiting out the drain time.
  app.addHook('preClose', async () => {
    for (const finish of options.openEventStreams) finish();
  });
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    for (const { name, prefix } of options.upstreams.definitions) {
      const handler = {
        schema: { hide: true },
        // The proxy checks the body's size before it asks for the body.
        config: { continuesInHandler: true },
        handler: (request, reply) => proxyRequest(name, request, reply, options),
      } satisfies Parameters<typeof scope.all>[1];
      scope.all(prefix, handler);
      scope.all(`${prefix}/*`, handler);
    }
  });
}
