import { trace } from '@opentelemetry/api';
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: string;
  /** Bound on every line (e.g. `service`). */
  bindings?: Record<string, string>;
  /** Where lines go; stdout by default. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

/** Adds the active trace and span ids to every line when tracing is on. */
function traceMixin(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

export function createLogger(options: LoggerOptions): Logger {
  const logger = pino(
    {
      level: options.level,
      base: { pid: process.pid, ...options.bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: traceMixin,
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
  return logger;
}
