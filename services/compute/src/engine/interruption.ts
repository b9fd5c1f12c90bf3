/**
 * Why a running attempt was aborted. `cancelled` and `lost` (the job is no
 * longer this worker's) write nothing; `shutdown` hands the job back, and
 * `unconfirmed` (its owner's current rights could not be learnt) hands it back
 * for a while; `timeout` counts as a failed attempt.
 */
export class Interruption extends Error {
  constructor(
    readonly reason: 'cancelled' | 'lost' | 'shutdown' | 'unconfirmed' | 'timeout',
    message: string,
  ) {
    super(message);
    this.name = 'Interruption';
  }
}

/**
 * Settles with `work`, or rejects with the signal's reason as soon as it is
 * aborted: a handler that ignores its signal cannot hold the job (its late
 * outcome is dropped).
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
