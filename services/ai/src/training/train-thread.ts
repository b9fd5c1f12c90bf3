import { Worker } from 'node:worker_threads';
import { PermanentJobError, workerThreadUrl } from '@datalab/platform';
import type { TabularArtifact } from './tabular-model.ts';
import type { TrainInput, TrainOutput, TrainProgress } from './train.ts';
import type { TrainThreadMessage } from './train.worker.ts';

/**
 * Trains in a worker thread of its own: the fit can take minutes of CPU, and
 * on the event loop it would stall the worker's lease renewals, heartbeats and
 * the job's cancel signal. Aborting `signal` ends the thread at once, wherever
 * the fit is.
 */
export function trainInThread(
  input: TrainInput,
  signal: AbortSignal,
  report: TrainProgress,
): Promise<TrainOutput> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerThreadUrl(import.meta.url, 'train.worker'), { workerData: input });
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const onAbort = (): void =>
      settle(() => {
        void worker.terminate();
        reject(signal.reason as Error);
      });
    signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: TrainThreadMessage) => {
      if (message.kind === 'progress') report(message.done, message.total, message.step);
      else if (message.kind === 'done')
        settle(() =>
          resolve({
            artifact: JSON.parse(message.artifact) as TabularArtifact,
            metrics: message.metrics,
            testRows: message.testRows,
          }),
        );
      else
        settle(() =>
          reject(message.permanent ? new PermanentJobError(message.message) : new Error(message.message)),
        );
    });
    worker.on('error', (error) => settle(() => reject(error)));
    worker.on('exit', (code) =>
      settle(() => reject(new Error(`The training thread stopped before it finished (exit code ${code})`))),
    );
  });
}
