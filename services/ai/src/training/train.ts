import { ALGORITHMS, fit, type Algorithm, type Estimator } from './algorithms.ts';
import { classificationMetrics, regressionMetrics } from './metrics.ts';
import { encodedOwners, encodeRow, learnEncodings } from './preprocess.ts';
import { kFolds, trainTestSplit, type Fold } from './split.ts';
import type { TabularArtifact } from './tabular-model.ts';
import type { TrainParams } from './train.params.ts';
import { TrainingInputError } from './training-error.ts';

export interface TrainInput {
  columns: readonly { name: string; type: string }[];
  rows: readonly Record<string, unknown>[];
  target: string | undefined;
  features: readonly string[] | undefined;
  algorithm: Algorithm;
  params: TrainParams;
}

export interface TrainOutput {
  artifact: TabularArtifact;
  metrics: Record<string, unknown>;
  /** Row indexes of the held-out test rows, for callers that want to score them again. */
  testRows: number[];
}

interface Prepared {
  y: number[];
  classes: string[] | null;
}

function chooseFeatures(input: TrainInput): { name: string; type: string }[] {
  const byName = new Map(input.columns.map((column) => [column.name, column]));
  const names =
    input.features ?? input.columns.map((column) => column.name).filter((name) => name !== input.target);
  if (names.length === 0) throw new TrainingInputError('No features: name at least one column in "features"');
  return names.map((name) => {
    const column = byName.get(name);
    if (!column) throw new TrainingInputError(`features: the dataset has no column "${name}"`);
    if (name === input.target) throw new TrainingInputError(`features: "${name}" is the target`);
    return column;
  });
}

function evaluate(
  task: string,
  estimator: Estimator,
  X: number[][],
  y: number[],
  classCount: number,
): Record<string, unknown> {
  if (task === 'classification')
    return { ...classificationMetrics(y, estimator.predict(X), classCount, estimator.probabilities?.(X)) };
  return { ...regressionMetrics(y, estimator.predict(X)) };
}

function pick<T>(items: readonly T[], indexes: readonly number[]): T[] {
  return indexes.map((i) => items[i]!);
}

function meanMetrics(folds: Record<string, unknown>[]): Record<string, number | null> {
  const keys = Object.keys(folds[0] ?? {});
  return Object.fromEntries(
    keys.map((key) => {
      const values = folds
        .map((fold) => fold[key])
        .filter((value): value is number => typeof value === 'number');
      return [key, values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length];
    }),
  );
}

/** Importance per original feature: the encoded columns' shares summed back, normalised to 1. */
function featureImportance(
  estimator: Estimator,
  owners: number[],
  names: string[],
): Record<string, number> | null {
  const raw = estimator.importance?.();
  if (!raw) return null;
  const sums = names.map(() => 0);
  raw.forEach((value, j) => (sums[owners[j]!]! += Number.isFinite(value) ? value : 0));
  const total = sums.reduce((a, b) => a + b, 0) || 1;
  return Object.fromEntries(names.map((name, i) => [name, sums[i]! / total]));
}

/** Told before each fit: `done` of `total` fits (the served model, then one per fold) are finished. */
export type TrainProgress = (done: number, total: number, step: string) => void;

/**
 * Trains a built-in model: learns encodings on the training part only, holds
 * out a test part (stratified for classification), optionally cross-validates,
 * then fits the served model on the training part.
 */
export function trainTabular(input: TrainInput, report: TrainProgress = () => undefined): TrainOutput {
  const task = ALGORITHMS[input.algorithm];
  const supervised = task === 'classification' || task === 'regression';
  const features = chooseFeatures(input);
  if (supervised && !input.target)
    throw new TrainingInputError(`target: ${input.algorithm} needs a target column`);
  if (supervised && !input.columns.some((column) => column.name === input.target))
    throw new TrainingInputError(`target: the dataset has no column "${input.target}"`);
  const rows = supervised
    ? input.rows.filter((row) => row[input.target!] !== null && row[input.target!] !== undefined)
    : [...input.rows];
  if (rows.length < 10)
    throw new TrainingInputError(`Too few rows to train on: ${rows.length} (at least 10)`);

  const prepared = labels(task, rows, input.target);
  const seed = input.params.seed ?? 42;
  const stratify = task === 'classification' ? prepared.y : undefined;
  const split: Fold = supervised
    ? trainTestSplit(rows.length, input.params.test_fraction ?? 0.25, seed, stratify)
    : { train: rows.map((_, i) => i), test: [] };
  const fitOn = (indexes: number[]) => {
    const trainRows = pick(rows, indexes);
    const encodings = learnEncodings(trainRows, features);
    const X = trainRows.map((row) => encodeRow(encodings, row));
    const estimator = fit(
      input.algorithm,
      X,
      pick(prepared.y, indexes),
      prepared.classes?.length ?? 0,
      input.params,
    );
    return { encodings, estimator };
  };

  const folds = supervised ? (input.params.k_folds ?? 0) : 0;
  const metrics: Record<string, unknown> = { train_rows: split.train.length, test_rows: split.test.length };
  report(0, folds + 1, `fitting ${input.algorithm} on ${split.train.length} rows`);
  const { encodings, estimator } = fitOn(split.train);
  const encode = (indexes: number[]) => pick(rows, indexes).map((row) => encodeRow(encodings, row));
  const classCount = prepared.classes?.length ?? 0;
  if (supervised) {
    Object.assign(
      metrics,
      evaluate(task, estimator, encode(split.test), pick(prepared.y, split.test), classCount),
    );
    if (folds > 0) {
      const scores = kFolds(rows.length, folds, seed, stratify).map((fold, i) => {
        report(i + 1, folds + 1, `cross-validation fold ${i + 1} of ${folds}`);
        const trained = fitOn(fold.train);
        const X = pick(rows, fold.test).map((row) => encodeRow(trained.encodings, row));
        return evaluate(task, trained.estimator, X, pick(prepared.y, fold.test), classCount);
      });
      metrics.cross_validation = { k: folds, ...meanMetrics(scores) };
    }
  }
  let threshold: number | null = null;
  const trainX = encode(split.train);
  if (task === 'anomaly') {
    const scores = estimator.predict(trainX).sort((a, b) => b - a);
    const flagged = Math.max(1, Math.round(scores.length * (input.params.contamination ?? 0.05)));
    threshold = scores[flagged - 1]!;
    metrics.threshold = threshold;
    metrics.anomalies_in_training = scores.filter((score) => score >= threshold!).length;
  }
  if (task === 'clustering') {
    const clusters = estimator.predict(trainX);
    metrics.cluster_sizes = Array.from(
      { length: input.params.k ?? 3 },
      (_, c) => clusters.filter((k) => k === c).length,
    );
  }
  metrics.feature_importance = featureImportance(
    estimator,
    encodedOwners(encodings),
    features.map((feature) => feature.name),
  );
  const artifact: TabularArtifact = {
    format: 'datalab-tabular/1',
    algorithm: input.algorithm,
    task,
    encodings,
    target: supervised ? input.target! : null,
    classes: prepared.classes,
    threshold,
    state: estimator.state,
  };
  return { artifact, metrics, testRows: split.test };
}

function labels(
  task: string,
  rows: readonly Record<string, unknown>[],
  target: string | undefined,
): Prepared {
  if (task === 'classification') {
    const values = rows.map((row) => String(row[target!]));
    const classes = [...new Set(values)].sort();
    if (classes.length < 2) throw new TrainingInputError(`target: "${target}" has only one class`);
    if (classes.length > 1000)
      throw new TrainingInputError(`target: "${target}" has ${classes.length} classes (at most 1000)`);
    const index = new Map(classes.map((label, i) => [label, i]));
    return { y: values.map((value) => index.get(value)!), classes };
  }
  if (task === 'regression') {
    const y = rows.map((row) => Number(row[target!]));
    const bad = y.findIndex((value) => !Number.isFinite(value));
    if (bad >= 0)
      throw new TrainingInputError(
        `target: row ${bad + 1} has "${String(rows[bad]![target!])}", not a number`,
      );
    return { y, classes: null };
  }
  return { y: rows.map(() => 0), classes: null };
}
