import { describe, expect, it } from 'vitest';
import { createLogger } from '../logging/logger.ts';
import { currentTraceCarrier, runInSavedTrace, startTracing, tracingEnabled } from './tracing.ts';

describe('tracing when no OTLP endpoint is configured', () => {
  it('stays off: nothing is registered, no trace is saved with work, saved work runs as it is', async () => {
    const tracing = startTracing({
      endpoint: undefined,
      serviceName: 'datalab',
      sampleRatio: 1,
      logger: createLogger({ level: 'silent' }),
    });

    expect(tracingEnabled()).toBe(false);
    expect(currentTraceCarrier()).toBeUndefined();
    expect(await runInSavedTrace(null, 'job noop', {}, async () => 42)).toBe(42);
    await tracing.shutdown();
  });
});
