import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type Tracer,
} from '@opentelemetry/api';

/** The parts of undici's request object its diagnostics channels hand out. */
interface UndiciRequest {
  method: string;
  origin: string | URL;
  path: string;
  /** Flat name, value, name, value... */
  headers: unknown[];
  addHeader: (name: string, value: string) => unknown;
}

const TRACE_HEADERS = new Set(['traceparent', 'tracestate']);

/** A forwarded caller's trace headers give way to ours (the gateway's proxy copies the caller's). */
function dropTraceHeaders(headers: unknown[]): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (TRACE_HEADERS.has(String(headers[i]).toLowerCase())) headers.splice(i, 2);
  }
}

/**
 * Every outgoing undici request (service clients, the gateway's proxy) gets a
 * client span and a `traceparent` header, through undici's diagnostics
 * channels: no call site has to remember it. Returns the unsubscriber.
 */
export function traceOutgoingRequests(tracer: Tracer): () => void {
  const spans = new WeakMap<UndiciRequest, Span>();
  const onCreate = (message: unknown): void => {
    const { request } = message as { request: UndiciRequest };
    if (!trace.getActiveSpan()) return;
    const span = tracer.startSpan(`${request.method} ${String(request.origin)}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': request.method,
        'url.full': `${String(request.origin)}${request.path}`,
      },
    });
    spans.set(request, span);
    const headers: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), span), headers);
    if (Array.isArray(request.headers)) dropTraceHeaders(request.headers);
    for (const [name, value] of Object.entries(headers)) request.addHeader(name, value);
  };
  const onHeaders = (message: unknown): void => {
    const { request, response } = message as { request: UndiciRequest; response: { statusCode: number } };
    const span = spans.get(request);
    if (!span) return;
    span.setAttribute('http.response.status_code', response.statusCode);
    if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
    spans.delete(request);
  };
  const onError = (message: unknown): void => {
    const { request, error } = message as { request: UndiciRequest; error: Error };
    const span = spans.get(request);
    if (!span) return;
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    span.end();
    spans.delete(request);
  };
  subscribe('undici:request:create', onCreate);
  subscribe('undici:request:headers', onHeaders);
  subscribe('undici:request:error', onError);
  return () => {
    unsubscribe('undici:request:create', onCreate);
    unsubscribe('undici:request:headers', onHeaders);
    unsubscribe('undici:request:error', onError);
  };
}
