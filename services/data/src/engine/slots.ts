import { AppError } from '@datalab/platform';

/**
 * A counting semaphore with a bounded line: at most `size` holders at once,
 * at most `queueLength` waiting, and anyone past that refused at once, so a
 * burst of heavy queries queues a little and then answers "busy" instead of
 * piling up memory and timeouts.
 */

export type Release = () => void;

export interface Slots {
  /** Waits for a slot; refuses when the line is full or the slots are closed. */
  acquire(signal?: AbortSignal): Promise<Release>;
  readonly active: number;
  readonly waiting: number;
  /** Refuses everyone waiting and every later acquire. */
  close(): void;
}

interface Waiter {
  grant: (release: Release) => void;
  refuse: (error: Error) => void;
}

export function busyError(queueLength: number): AppError {
  return new AppError(
    'unavailable',
    `The data engine is busy: every query slot is taken and ${queueLength} queries are already waiting; try again shortly`,
    { headers: { 'retry-after': '1' } },
  );
}

export const closedError = (): AppError => new AppError('unavailable', 'The data engine is shutting down');

export function createSlots(size: number, queueLength: number): Slots {
  let active = 0;
  let closed = false;
  const line: Waiter[] = [];

  const releaser = (): Release => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = line.shift();
      if (next && !closed) next.grant(releaser());
      else active--;
    };
  };

  return {
    get active() {
      return active;
    },
    get waiting() {
      return line.length;
    },
    acquire: (signal) => {
      if (closed) return Promise.reject(closedError());
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      if (active < size) {
        active++;
        return Promise.resolve(releaser());
      }
      if (line.length >= queueLength) return Promise.reject(busyError(queueLength));
      return new Promise<Release>((resolve, reject) => {
        const onAbort = (): void => {
          const at = line.indexOf(waiter);
          if (at >= 0) line.splice(at, 1);
          reject(signal?.reason as Error);
        };
        const waiter: Waiter = {
          grant: (release) => {
            signal?.removeEventListener('abort', onAbort);
            resolve(release);
          },
          refuse: (error) => {
            signal?.removeEventListener('abort', onAbort);
            reject(error);
          },
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        line.push(waiter);
      });
    },
    close: () => {
      closed = true;
      for (const waiter of line.splice(0)) waiter.refuse(closedError());
    },
  };
}
