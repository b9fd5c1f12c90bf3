/**
 * Runs `pass` after `firstDelayMs` (now by default) and then `intervalMs` after each pass ends,
 * never two at once, until closed; closing waits for a pass under way. `pass` must not throw:
 * each loop logs its own failures.
 */
export function startPeriodic(
  pass: () => Promise<void>,
  intervalMs: number,
  firstDelayMs = 0,
): { close: () => Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  let closed = false;

  const schedule = (delayMs: number): void => {
    if (closed) return;
    timer = setTimeout(() => {
      current = pass().then(() => schedule(intervalMs));
    }, delayMs);
    timer.unref();
  };
  schedule(firstDelayMs);

  return {
    close: async () => {
      closed = true;
      clearTimeout(timer);
      await current;
    },
  };
}
