/**
 * Multinomial logistic regression (softmax) by full-batch gradient descent on
 * standardised inputs with L2 regularisation. Written here because the ml.js
 * package gives no class probabilities, which ROC AUC and callers need.
 */
export interface LogisticModel {
  means: number[];
  scales: number[];
  /** weights[class][feature], the last entry of each row the bias. */
  weights: number[][];
}

export interface LogisticOptions {
  iterations: number;
  learningRate: number;
  l2: number;
}

function softmax(scores: number[]): number[] {
  const max = Math.max(...scores);
  const exps = scores.map((score) => Math.exp(score - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((value) => value / total);
}

function standardise(row: readonly number[], model: Pick<LogisticModel, 'means' | 'scales'>): number[] {
  return row.map((value, j) => (value - model.means[j]!) / model.scales[j]!);
}

export function logisticProbabilities(model: LogisticModel, row: readonly number[]): number[] {
  const x = standardise(row, model);
  return softmax(model.weights.map((w) => x.reduce((sum, value, j) => sum + value * w[j]!, w[x.length]!)));
}

export function trainLogistic(
  X: readonly (readonly number[])[],
  y: readonly number[],
  classCount: number,
  options: LogisticOptions,
): LogisticModel {
  const features = X[0]?.length ?? 0;
  const means = Array.from({ length: features }, (_, j) => X.reduce((s, row) => s + row[j]!, 0) / X.length);
  const scales = means.map((mean, j) => {
    const variance = X.reduce((s, row) => s + (row[j]! - mean) ** 2, 0) / X.length;
    return variance > 0 ? Math.sqrt(variance) : 1;
  });
  const Z = X.map((row) => standardise(row, { means, scales }));
  const weights = Array.from({ length: classCount }, () => new Array<number>(features + 1).fill(0));
  for (let step = 0; step < options.iterations; step++) {
    const gradient = weights.map((w) => w.map(() => 0));
    Z.forEach((x, i) => {
      const p = softmax(weights.map((w) => x.reduce((sum, value, j) => sum + value * w[j]!, w[features]!)));
      for (let c = 0; c < classCount; c++) {
        const error = p[c]! - (y[i] === c ? 1 : 0);
        const g = gradient[c]!;
        for (let j = 0; j < features; j++) g[j]! += error * x[j]!;
        g[features]! += error;
      }
    });
    for (let c = 0; c < classCount; c++) {
      const w = weights[c]!;
      for (let j = 0; j <= features; j++) {
        const penalty = j < features ? options.l2 * w[j]! : 0;
        w[j]! -= options.learningRate * (gradient[c]![j]! / Z.length + penalty);
      }
    }
  }
  return { means, scales, weights };
}
