import type { FastifyRequest } from 'fastify';
import { AppError } from '@datalab/platform';
import type { ServiceName } from '@datalab/contracts';

/** A job's event stream: open as long as the UI shows the job. */
const EVENT_STREAM = /^\/api\/v1\/compute\/jobs\/[^/]+\/events$/;

export interface ShareLimits {
  eventStreamsPerUser: number;
  upstreamConnections: number;
  upstreamConnectionsPerCaller: number;
}

/** At most `max` at once per key; `take` answers how to give the place back, or nothing when full. */
function concurrencyLimit(max: number) {
  const held = new Map<string, number>();
  return (key: string): (() => void) | undefined => {
    const now = held.get(key) ?? 0;
    if (now >= max) return undefined;
    held.set(key, now + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (held.get(key) ?? 1) - 1;
      if (left === 0) held.delete(key);
      else held.set(key, left);
    };
  };
}

function refused(detail: string, setting: string, limit: number): AppError {
  return new AppError('rate_limited', detail, {
    headers: { 'retry-after': '5' },
    extensions: { limit: setting, limit_value: limit },
  });
}

/**
 * Keeps one caller from holding what everyone shares: its open job event streams (each holds a
 * connection to the compute-service for as long as it is open), and its requests in flight to
 * each upstream, which share that upstream's pool of UPSTREAM_CONNECTIONS. Counted per gateway
 * instance; a call over either limit is refused with 429 at once rather than queued behind the
 * pool. Answers how to give the places back once the answer is over.
 */
export function createCallerShares(limits: ShareLimits) {
  const streams = concurrencyLimit(limits.eventStreamsPerUser);
  const perUpstream = concurrencyLimit(limits.upstreamConnectionsPerCaller);
  return (service: ServiceName, request: FastifyRequest): (() => void) => {
    const caller = request.principal?.userId ?? `ip:${request.ip}`;
    const isStream = request.method === 'GET' && EVENT_STREAM.test(request.url.split('?')[0] ?? '');
    const stream = isStream ? streams(caller) : () => undefined;
    if (!stream)
      throw refused(
        `Too many open job event streams: ${limits.eventStreamsPerUser} per user (EVENT_STREAMS_PER_USER). Close one first.`,
        'EVENT_STREAMS_PER_USER',
        limits.eventStreamsPerUser,
      );
    const connection = perUpstream(`${service}\0${caller}`);
    if (!connection) {
      stream();
      throw refused(
        `Too many requests in flight to ${service}: one caller may hold ${limits.upstreamConnectionsPerCaller} of its ${limits.upstreamConnections} connections (UPSTREAM_CONNECTIONS_PER_CALLER).`,
        'UPSTREAM_CONNECTIONS_PER_CALLER',
        limits.upstreamConnectionsPerCaller,
      );
    }
    return () => {
      stream();
      connection();
    };
  };
}

export type CallerShares = ReturnType<typeof createCallerShares>;
