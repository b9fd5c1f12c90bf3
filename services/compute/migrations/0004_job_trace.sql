-- The W3C trace context (traceparent, tracestate) of the request that submitted the job, so the
-- attempt's span and log lines join that request's trace. NULL when tracing is off.
ALTER TABLE compute.jobs ADD COLUMN trace_context jsonb;
