import { seededRandom, shuffled } from './random.ts';
import { growTree, predictTree, type TreeNode } from './regression-tree.ts';

/**
 * Friedman's gradient boosting (Annals of Statistics 2001; stochastic
 * subsampling from his 2002 paper), as scikit-learn's GradientBoosting*
 * implements it: squared loss with mean leaves for regression; for
 * classification, log-loss (two classes, one tree per stage) or softmax (K
 * classes, K trees per stage) with Friedman's one Newton step per leaf.
 */
export interface BoostingOptions {
  nEstimators: number;
  learningRate: number;
  maxDepth: number;
  /** Share of rows each stage's trees are fitted on, drawn without replacement. */
  subsample: number;
  seed: number;
}

export interface BoostedModel {
  task: 'regression' | 'classification';
  classCount: number;
  learningRate: number;
  /** The starting raw scores: the mean, the log-odds, or the log of each class's prior. */
  init: number[];
  /** Per stage, one tree (regression, two classes) or one per class. */
  stages: TreeNode[][];
  /** Squared-error decrease per encoded column, summed over every split. */
  gains: number[];
}

/** Leaf values whose denominator is this small are 0, as in scikit-learn, rather than huge. */
const TINY = 1e-150;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function softmax(scores: readonly number[]): number[] {
  const top = Math.max(...scores);
  const exps = scores.map((score) => Math.exp(score - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((value) => value / total);
}

function stageRows(n: number, options: BoostingOptions, random: () => number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (options.subsample >= 1) return all;
  return shuffled(all, random)
    .slice(0, Math.max(1, Math.round(n * options.subsample)))
    .sort((a, b) => a - b);
}

/** One score column per tree of a stage: one for regression and two classes, K for K classes. */
function columns(task: BoostedModel['task'], classCount: number): number {
  return task === 'classification' && classCount > 2 ? classCount : 1;
}

function initialScores(task: BoostedModel['task'], y: readonly number[], classCount: number): number[] {
  const n = y.length;
  if (task === 'regression') return [y.reduce((a, b) => a + b, 0) / n];
  const priors = Array.from({ length: classCount }, (_, c) => y.filter((label) => label === c).length / n);
  if (classCount === 2) return [Math.log(priors[1]! / priors[0]!)];
  return priors.map((prior) => Math.log(Math.max(prior, Number.MIN_VALUE)));
}

/** Each row's probability per score column at the current scores (classification only), once per stage. */
function probabilitiesAt(model: BoostedModel, scores: number[][]): number[][] | null {
  if (model.task === 'regression') return null;
  return model.classCount === 2 ? scores.map((row) => [sigmoid(row[0]!)]) : scores.map(softmax);
}

/** Negative gradients of the loss for column `k` at the current scores (per row), and each row's p(1−p) for Newton leaves. */
function residuals(
  model: BoostedModel,
  y: readonly number[],
  scores: number[][],
  probabilities: number[][] | null,
  k: number,
) {
  if (!probabilities) return { r: y.map((value, i) => value - scores[i]![0]!), h: null };
  const p = probabilities.map((row) => row[k]!);
  const target = y.map((label) => (model.classCount === 2 ? label : Number(label === k)));
  return { r: target.map((t, i) => t - p[i]!), h: p.map((value) => value * (1 - value)) };
}

export function trainBoosting(
  X: number[][],
  y: number[],
  task: BoostedModel['task'],
  classCount: number,
  options: BoostingOptions,
): BoostedModel {
  const K = columns(task, classCount);
  const init = initialScores(task, y, classCount);
  const model: BoostedModel = {
    task,
    classCount,
    learningRate: options.learningRate,
    init,
    stages: [],
    gains: (X[0] ?? []).map(() => 0),
  };
  const scores = X.map(() => [...init]);
  const random = seededRandom(options.seed);
  // Friedman's K-class step scales the Newton leaf by (K−1)/K.
  const scale = K > 1 ? (K - 1) / K : 1;
  for (let m = 0; m < options.nEstimators; m++) {
    const rows = stageRows(X.length, options, random);
    const stage: TreeNode[] = [];
    const probabilities = probabilitiesAt(model, scores);
    for (let k = 0; k < K; k++) {
      const { r, h } = residuals(model, y, scores, probabilities, k);
      const leafValue = (leaf: number[]) => {
        const sum = leaf.reduce((total, i) => total + r[i]!, 0);
        if (!h) return sum / leaf.length;
        const curvature = leaf.reduce((total, i) => total + h[i]!, 0);
        return Math.abs(curvature) < TINY ? 0 : (scale * sum) / curvature;
      };
      stage.push(growTree(X, r, rows, { maxDepth: options.maxDepth, leafValue, gains: model.gains }));
    }
    // Every row moves, not only the subsample: the next stage's gradients are taken at the new scores.
    X.forEach((row, i) =>
      stage.forEach((tree, k) => (scores[i]![k]! += options.learningRate * predictTree(tree, row))),
    );
    model.stages.push(stage);
  }
  return model;
}

export function boostedScores(model: BoostedModel, row: readonly number[]): number[] {
  const scores = [...model.init];
  for (const stage of model.stages)
    stage.forEach((tree, k) => (scores[k]! += model.learningRate * predictTree(tree, row)));
  return scores;
}

/** Class probabilities (classification): the sigmoid of the log-odds, or the softmax of K scores. */
export function boostedProbabilities(model: BoostedModel, row: readonly number[]): number[] {
  const scores = boostedScores(model, row);
  if (model.classCount === 2) {
    const p = sigmoid(scores[0]!);
    return [1 - p, p];
  }
  return softmax(scores);
}
