import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, INTERNAL_TOKEN_HEADER, REQUEST_ID_HEADER, type Principal } from '@datalab/platform';
import type { ServiceName } from '@datalab/contracts';
import { request, type Dispatcher } from 'undici';
import type { Upstreams } from '../upstreams/upstreams.ts';

// RFC 9110 §7.6.1: connection-specific headers are not forwarded by a proxy.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

// The caller's credentials stop at the gateway: services see only the internal token,
// and one sent by a caller is dropped, never trusted.
const NOT_FORWARDED = new Set(['authorization', 'x-api-key', 'cookie', INTERNAL_TOKEN_HEADER]);

function forwardedRequestHeaders(
  incoming: FastifyRequest,
  internalToken: string | undefined,
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !NOT_FORWARDED.has(name)) headers[name] = value;
  }
  if (internalToken) headers[INTERNAL_TOKEN_HEADER] = internalToken;
  const priorFor = incoming.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = priorFor ? `${String(priorFor)}, ${incoming.ip}` : incoming.ip;
  headers['x-forwarded-proto'] = incoming.protocol;
  if (incoming.headers.host) headers['x-forwarded-host'] = incoming.headers.host;
  headers[REQUEST_ID_HEADER] = incoming.id;
  return headers;
}

function responseHeaders(upstream: IncomingHttpHeaders): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && name !== 'content-length') headers[name] = value;
  }
  if (upstream['content-length'] !== undefined) headers['content-length'] = upstream['content-length'];
  return headers;
}

const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE']);

export interface ProxyOptions {
  upstreams: Upstreams;
  dispatcher: Dispatcher;
  timeoutMs: number;
  /** The internal token for `service` carrying the caller. */
  internalToken: (principal: Principal, service: ServiceName) => Promise<string>;
}

/**
 * Streams a request to a healthy instance of `service` and streams its answer
 * back: neither body is ever held whole in the gateway.
 */
export async function proxyRequest(
  service: ServiceName,
  incoming: FastifyRequest,
  reply: FastifyReply,
  options: ProxyOptions,
): Promise<FastifyReply> {
  const url = options.upstreams.pick(service);
  if (!url)
    throw new AppError('unavailable', `${service} is unavailable: no healthy instance`, {
      headers: { 'retry-after': '5' },
    });

  // Stop the upstream call when the caller goes away.
  const abort = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });

  const hasBody = !BODYLESS.has(incoming.method) || incoming.headers['content-length'] !== undefined;
  const token = incoming.principal ? await options.internalToken(incoming.principal, service) : undefined;
  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await request(new URL(incoming.url, url), {
      method: incoming.method,
      headers: forwardedRequestHeaders(incoming, token),
      body: hasBody ? incoming.raw : null,
      dispatcher: options.dispatcher,
      signal: abort.signal,
      headersTimeout: options.timeoutMs,
      bodyTimeout: 0,
    });
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).name;
    if (abort.signal.aborted) return reply;
    if (code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ECONNRESET') {
      options.upstreams.markDown(service, url, code);
    }
    throw new AppError('unavailable', `${service} did not answer (${code})`, {
      headers: { 'retry-after': '5' },
      cause: error,
    });
  }
  return reply.code(upstream.statusCode).headers(responseHeaders(upstream.headers)).send(upstream.body);
}
