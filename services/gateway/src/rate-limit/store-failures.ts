import { Counter, type Logger, type ServiceMetrics } from '@datalab/platform';

const WARN_EVERY_MS = 10_000;

/**
 * Counts every store failure, but warns at most once per 10 s: when Redis is
 * down every request fails, and one line per request would bury the cause.
 */
export function storeFailureReporter(logger: Logger, metrics: ServiceMetrics) {
  const errors = new Counter({
    name: 'gateway_rate_limit_store_errors_total',
    help: 'Requests whose rate-limit count failed (store unreachable), by what happened to them.',
    labelNames: ['outcome'] as const,
    registers: [metrics.registry],
  });
  let lastWarnAt = Number.NEGATIVE_INFINITY;
  let unreported = 0;
  let failing = false;
  return {
    /** `allowed`: the request was let through uncounted; otherwise it was refused with 503. */
    failed: (error: unknown, allowed: boolean): void => {
      const outcome = allowed ? 'allowed' : 'refused';
      errors.inc({ outcome });
      failing = true;
      const now = Date.now();
      if (now - lastWarnAt < WARN_EVERY_MS) {
        unreported += 1;
        return;
      }
      const reason = error instanceof Error ? error.message : String(error);
      const consequence = allowed
        ? 'requests are let through unlimited (RATE_LIMIT_FAIL_OPEN=true); sign-ins, refreshes and password changes are refused with 503'
        : 'requests are refused with 503';
      logger.warn(
        { err: reason, outcome, failures_since_last_warning: unreported },
        `rate-limit store unavailable: ${consequence}`,
      );
      lastWarnAt = now;
      unreported = 0;
    },
    answered: (): void => {
      if (!failing) return;
      failing = false;
      logger.info('rate-limit store answers again: rate limits apply');
    },
  };
}
