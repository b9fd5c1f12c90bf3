import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  AppError,
  INTERNAL_TOKEN_HEADER,
  REQUEST_ID_HEADER,
  sendContinue,
  type Principal,
} from '@datalab/platform';
import type { ServiceName } from '@datalab/contracts';
import type { Dispatcher } from 'undici';
import { bodyLimitFor, limitBody, tooLarge, type BodyLimit, type BodyLimits } from './body-limit.ts';
import { announcedLength, callUpstream, CallerGone, type UpstreamAnswer } from './upstream-call.ts';
import type { CallerShares } from './caller-shares.ts';
import type { UpstreamMetrics } from '../upstreams/upstream-metrics.ts';
import type { Upstreams } from '../upstreams/upstreams.ts';

// RFC 9110 §7.6.1: connection-specific headers are not forwarded by a proxy, nor any header the
// Connection header names. `host` is the gateway's own; `trailer` announces trailers, which are
// announced again for the fields actually passed on.
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
// and one sent by a caller is dropped, never trusted. `Expect: 100-continue` is answered here.
const NOT_FORWARDED = new Set(['authorization', 'x-api-key', 'cookie', 'expect', INTERNAL_TOKEN_HEADER]);

/** The header names a Connection or Trailer header lists, lower-cased. */
function listedNames(value: string | string[] | undefined): Set<string> {
  const values = Array.isArray(value) ? value : [value ?? ''];
  return new Set(values.flatMap((line) => line.split(',').map((name) => name.trim().toLowerCase())));
}

/** The end-to-end headers of a message, without those `drop` names. */
function endToEnd(
  headers: Record<string, string | string[] | undefined>,
  drop: ReadonlySet<string>,
): Record<string, string | string[]> {
  const named = listedNames(headers.connection);
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !drop.has(name) && !named.has(name))
      kept[name] = value;
  }
  return kept;
}

function forwardedRequestHeaders(
  incoming: FastifyRequest,
  internalToken: string | undefined,
): Record<string, string | string[]> {
  const headers = endToEnd(incoming.headers, NOT_FORWARDED);
  if (internalToken) headers[INTERNAL_TOKEN_HEADER] = internalToken;
  const priorFor = incoming.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = priorFor ? `${String(priorFor)}, ${incoming.ip}` : incoming.ip;
  headers['x-forwarded-proto'] = incoming.protocol;
  if (incoming.headers.host) headers['x-forwarded-host'] = incoming.headers.host;
  headers[REQUEST_ID_HEADER] = incoming.id;
  return headers;
}

const NO_RESPONSE_DROPS = new Set<string>();

// RFC 9110 §6.5.1: fields that framing, routing, authentication or caching need before the body
// may not come as trailers (Fastify refuses them too); an upstream announcing one has it dropped.
const NOT_TRAILERS = new Set([
  ...HOP_BY_HOP,
  'content-length',
  'cache-control',
  'max-forwards',
  'authorization',
  'set-cookie',
  'content-encoding',
  'content-type',
  'content-range',
]);

/**
 * Passes the upstream's head on, and the trailers it announced once its body has ended. Trailers
 * need a body of unknown length (chunked), which is how an upstream sends them.
 */
function passAnswer(
  reply: FastifyReply,
  upstream: UpstreamAnswer,
  openStreams: Set<() => void>,
): FastifyReply {
  void reply.code(upstream.statusCode).headers(endToEnd(upstream.headers, NO_RESPONSE_DROPS));
  if (String(upstream.headers['content-type']).startsWith('text/event-stream')) {
    openStreams.add(upstream.finish);
    reply.raw.once('close', () => openStreams.delete(upstream.finish));
  }
  if (upstream.body instanceof Readable && upstream.headers['content-length'] === undefined) {
    const trailers = upstream.trailers;
    for (const name of listedNames(upstream.headers.trailer)) {
      if (name && !NOT_TRAILERS.has(name))
        void reply.trailer(name, async () => String(trailers()[name] ?? ''));
    }
  }
  return reply.send(upstream.body);
}

const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE']);

/**
 * A body up to this size, with its length announced, is read whole before it is passed on:
 * the head and the body then leave in one write instead of one per chunk. Most API calls are
 * this small; uploads and exports stay streamed.
 */
const WHOLE_BODY_BYTES = 64 * 1024;

async function readWhole(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The caller's body: whole when it is small and its length is known, else the counted stream. */
async function requestBody(incoming: FastifyRequest, limit: BodyLimit): Promise<Readable | Buffer> {
  // A hook may have read the body already (the rate limiter counts a job batch's items).
  if (Buffer.isBuffer(incoming.body)) return incoming.body;
  const body = limitBody(incoming.raw, limit);
  const length = announcedLength(incoming.headers['content-length']);
  return length !== undefined && length <= WHOLE_BODY_BYTES ? readWhole(body) : body;
}

export interface ProxyOptions {
  upstreams: Upstreams;
  dispatcher: Dispatcher;
  timeoutMs: number;
  /** The internal token for `service` carrying the caller. */
  internalToken: (principal: Principal, service: ServiceName) => Promise<string>;
  metrics: UpstreamMetrics;
  limits: BodyLimits;
  /** Takes the caller's places (event streams, upstream connections) for this call, or refuses it. */
  shares: CallerShares;
  /** How to end each event stream passed on and still open, when the gateway closes. */
  openEventStreams: Set<() => void>;
}

// The connection never opened: nothing reached the instance.
const UNREACHABLE = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
// The connection broke before an answer: the instance may have died mid-request.
const BROKEN = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);
const IDEMPOTENT_READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The rest of the body will not be read: closing the connection after the
 * answer stops the client from sending it (a kept-alive connection would wait).
 */
function refuseUnreadBody(reply: FastifyReply, limit: BodyLimit): never {
  void reply.header('connection', 'close');
  throw tooLarge(limit);
}

/** Records whether the caller's body broke off (connection cut, bad chunk framing) before its end. */
function watchCallerBody(incoming: FastifyRequest): { broken: Error | undefined } {
  const watch: { broken: Error | undefined } = { broken: undefined };
  incoming.raw.once('error', (error) => (watch.broken = error));
  incoming.raw.once('aborted', () => (watch.broken ??= new Error('aborted')));
  return watch;
}

function brokenBody(cause: Error): AppError {
  return new AppError('invalid', `The request body broke off before its end (${cause.message})`, { cause });
}

function unavailable(service: ServiceName, reason: string, cause?: unknown): AppError {
  return new AppError('unavailable', `${service} is unavailable: ${reason}`, {
    headers: { 'retry-after': '5' },
    cause,
  });
}

/**
 * Passes a request to a healthy instance of `service` and its answer back: small
 * bodies whole, others streamed, so a large one is never held whole in the gateway. An instance that
 * cannot be reached is taken out at once and the request goes to the next
 * instance when repeating it is safe (nothing was sent, or a read), so one
 * dead instance fails no request.
 */
export async function proxyRequest(
  service: ServiceName,
  incoming: FastifyRequest,
  reply: FastifyReply,
  options: ProxyOptions,
): Promise<FastifyReply> {
  const release = options.shares(service, incoming);
  // A caller that hung up while it was being checked is gone already: its 'close' has been and
  // will not come again, so the share it just took is given back here.
  if (reply.raw.closed) {
    release();
    return reply;
  }
  // Stop the upstream call when the caller goes away.
  const callerGone = new CallerGone();
  reply.raw.on('close', () => {
    release();
    if (!reply.raw.writableFinished) callerGone.leave();
  });

  const hasBody = !BODYLESS.has(incoming.method) || incoming.headers['content-length'] !== undefined;
  const limit = bodyLimitFor(incoming.method, incoming.url.split('?')[0] ?? '', options.limits);
  if (Number(incoming.headers['content-length'] ?? 0) > limit.bytes) refuseUnreadBody(reply, limit);
  sendContinue(incoming, reply);
  const callerBody = watchCallerBody(incoming);
  let body: Readable | Buffer | null;
  try {
    body = hasBody ? await requestBody(incoming, limit) : null;
  } catch (error) {
    if (error instanceof AppError && error.kind === 'too_large') refuseUnreadBody(reply, limit);
    throw callerBody.broken ? brokenBody(callerBody.broken) : error;
  }
  const token = incoming.principal ? await options.internalToken(incoming.principal, service) : undefined;
  const headers = forwardedRequestHeaders(incoming, token);
  const unreachable = new Set<string>();
  for (let brokenRetries = 0; ;) {
    const url = options.upstreams.pick(service, unreachable);
    if (!url) throw unavailable(service, 'no healthy instance');
    const started = performance.now();
    try {
      // Resolved as a URL, which settles dot segments and backslashes. The call goes to the
      // instance whatever host the target names (`//host/path` would name one).
      const target = new URL(incoming.url, url);
      const upstream = await callUpstream(
        options.dispatcher,
        {
          origin: new URL(url).origin,
          path: target.pathname + target.search,
          method: incoming.method,
          headers,
          body,
          headersTimeout: options.timeoutMs,
          bodyTimeout: 0,
        },
        WHOLE_BODY_BYTES,
        callerGone,
      );
      options.metrics.observe(service, upstream.statusCode >= 500 ? 'error' : 'ok', started);
      return passAnswer(reply, upstream, options.openEventStreams);
    } catch (error) {
      if (callerGone.gone) return reply;
      if (error instanceof AppError && error.kind === 'too_large') refuseUnreadBody(reply, limit);
      if (error instanceof AppError) throw error;
      // The caller's body broke off or was badly framed: the upstream is not at fault.
      if (callerBody.broken) throw brokenBody(callerBody.broken);
      const code = (error as { code?: string }).code ?? (error as Error).name;
      options.metrics.observe(service, 'unreachable', started);
      // Refused or timed out connecting: the instance is gone, take it out now. A connection that
      // broke may just be a stale keep-alive socket: the health check decides about the instance.
      if (UNREACHABLE.has(code)) {
        options.upstreams.markDown(service, url, code);
        unreachable.add(url);
      }
      // A body read whole can be sent again; a stream is spent.
      const safeToRepeat =
        !(body instanceof Readable) &&
        (UNREACHABLE.has(code) ||
          (BROKEN.has(code) && IDEMPOTENT_READS.has(incoming.method) && brokenRetries++ < 2));
      if (!safeToRepeat) throw unavailable(service, `it did not answer (${code})`, error);
    }
  }
}
