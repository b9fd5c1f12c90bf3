import type { Logger } from 'pino';

export interface ShutdownOptions {
  logger: Logger;
  /** After this long the process exits with status 1 even if closing has not finished. */
  timeoutMs: number;
  /** Stops accepting, finishes in-flight work, closes pools. */
  close: () => Promise<void>;
}

// Ctrl-C under `npm start` arrives twice within milliseconds: from the terminal and forwarded by
// npm. Only a signal sent after this grace period means "stop now".
const REPEAT_GRACE_MS = 1000;

/**
 * Runs until SIGTERM or SIGINT, then closes everything and exits 0.
 * A second signal (after a short grace period), or the timeout, exits 1 at once.
 */
export function closeOnSignal({ logger, timeoutMs, close }: ShutdownOptions): void {
  let closingSince: number | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closingSince !== undefined) {
      if (Date.now() - closingSince < REPEAT_GRACE_MS) return;
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    closingSince = Date.now();
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeout_ms: timeoutMs }, 'shutdown timed out: exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    close().then(
      () => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
