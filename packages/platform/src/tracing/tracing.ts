import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { traceOutgoingRequests } from './undici-tracing.ts';

export interface TracingOptions {
  /** OTLP/HTTP base URL (spans go to `<endpoint>/v1/traces`); unset: tracing stays off. */
  endpoint: string | undefined;
  /** `service.name` of the spans' resource. */
  serviceName: string;
  /** Share of new traces kept (0..1); a caller's sampling decision is always followed. */
  sampleRatio: number;
  logger: Logger;
}

export interface Tracing {
  /** Sends the spans still buffered, then stops (idempotent). */
  shutdown: () => Promise<void>;
}

const TRACER = 'datalab';
let active: { provider: BasicTracerProvider; users: number; stopOutgoing: () => void } | undefined;

/** True once `startTracing` has registered a provider in this process. */
export function tracingEnabled(): boolean {
  return active !== undefined;
}

/**
 * Registers the process-wide tracer, W3C trace-context propagation and the
 * OTLP exporter, when an endpoint is configured. Off, every helper here is a
 * no-op and no request pays for tracing. Several platforms in one process
 * (tests, `datalab up`) share the first registration.
 */
export function startTracing(options: TracingOptions): Tracing {
  if (!options.endpoint) return { shutdown: async () => undefined };
  if (!active) {
    const exporter = new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) }),
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
    });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    active = { provider, users: 0, stopOutgoing: traceOutgoingRequests(trace.getTracer(TRACER)) };
    options.logger.info({ endpoint: options.endpoint }, 'tracing on: spans go to the OTLP endpoint');
  }
  const registration = active;
  registration.users += 1;
  let stopped = false;
  return {
    shutdown: async () => {
      if (stopped) return;
      stopped = true;
      registration.users -= 1;
      if (registration.users > 0 || active !== registration) return;
      active = undefined;
      registration.stopOutgoing();
      await registration.provider.shutdown().catch((error: unknown) => {
        options.logger.warn({ err: error }, 'could not send the last spans');
      });
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

const serverSpans = new WeakMap<IncomingMessage, Span>();

type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Fastify `serverFactory`: each request runs inside a server span continuing
 * the caller's `traceparent`, so logs, outgoing calls and jobs created while
 * serving it belong to the same trace. Mirrors Fastify's own server defaults.
 */
export function tracedServerFactory(service: string) {
  return (handler: RequestHandler, options: { keepAliveTimeout?: number }) => {
    const tracer = trace.getTracer(TRACER);
    const server = createHttpServer((request, response) => {
      const parent = propagation.extract(ROOT_CONTEXT, request.headers);
      const span = tracer.startSpan(
        `${request.method ?? 'GET'} ${service}`,
        {
          kind: SpanKind.SERVER,
          attributes: { 'datalab.service': service, 'http.request.method': request.method ?? '' },
        },
        parent,
      );
      serverSpans.set(request, span);
      response.once('close', () => span.end());
      context.with(trace.setSpan(parent, span), () => handler(request, response));
    });
    server.keepAliveTimeout = options.keepAliveTimeout ?? 72_000;
    return server;
  };
}

/** Names the request's server span after its route and records the status. */
export function finishServerSpan(request: IncomingMessage, route: string, status: number): void {
  const span = serverSpans.get(request);
  if (!span) return;
  span.updateName(`${request.method ?? 'GET'} ${route}`);
  span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
}

/** The active trace as W3C headers, to store with work that runs later (a job); undefined when none. */
export function currentTraceCarrier(): Record<string, string> | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? carrier : undefined;
}

/**
 * Runs `work` in a span that continues the trace saved in `carrier` (see
 * `currentTraceCarrier`): a job's logs and calls then carry the trace id of
 * the request that submitted it.
 */
export async function runInSavedTrace<T>(
  carrier: Record<string, string> | null | undefined,
  name: string,
  attributes: Record<string, string | number>,
  work: () => Promise<T>,
): Promise<T> {
  if (!active) return work();
  const parent = propagation.extract(ROOT_CONTEXT, carrier ?? {});
  const span = trace.getTracer(TRACER).startSpan(name, { kind: SpanKind.CONSUMER, attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), work);
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : '' });
    throw error;
  } finally {
    span.end();
  }
}
