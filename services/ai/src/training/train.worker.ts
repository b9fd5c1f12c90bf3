import { parentPort, workerData } from 'node:worker_threads';
import { trainTabular, type TrainInput } from './train.ts';
import { TrainingInputError } from './training-error.ts';

/** What a training thread tells the job that started it. */
export type TrainThreadMessage =
  | { kind: 'progress'; done: number; total: number; step: string }
  /** The artifact as the JSON it is stored as: its fitted state holds class instances a structured clone would strip. */
  | { kind: 'done'; artifact: string; metrics: Record<string, unknown>; testRows: number[] }
  /** Errors lose their class crossing threads: `permanent` carries the one distinction the job needs. */
  | { kind: 'failed'; permanent: boolean; message: string };

function send(message: TrainThreadMessage): void {
  parentPort!.postMessage(message);
}

try {
  const output = trainTabular(workerData as TrainInput, (done, total, step) =>
    send({ kind: 'progress', done, total, step }),
  );
  send({
    kind: 'done',
    artifact: JSON.stringify(output.artifact),
    metrics: output.metrics,
    testRows: output.testRows,
  });
} catch (error) {
  send({
    kind: 'failed',
    permanent: error instanceof TrainingInputError,
    message: error instanceof Error ? error.message : String(error),
  });
}
