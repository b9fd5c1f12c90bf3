/** Classification and regression scores, written out so each is easy to check against its definition. */

export interface ClassificationMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** Binary: AUC of the positive class; multiclass: the mean of one-vs-rest AUCs. Null without probabilities. */
  roc_auc: number | null;
}

export interface RegressionMetrics {
  rmse: number;
  mae: number;
  r2: number;
}

/** Area under the ROC curve by ranks (Mann–Whitney), ties counted half. */
export function rocAuc(scores: readonly number[], positive: readonly boolean[]): number | null {
  const order = scores
    .map((score, i) => ({ score, positive: positive[i]! }))
    .sort((a, b) => a.score - b.score);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && order[j]!.score === order[i]!.score) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let t = i; t < j; t++) {
      if (order[t]!.positive) {
        positives += 1;
        rankSum += averageRank;
      }
    }
    i = j;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Macro-averaged precision, recall and F1 over the classes that occur in truth or prediction. */
export function classificationMetrics(
  truth: readonly number[],
  predicted: readonly number[],
  classCount: number,
  probabilities?: readonly (readonly number[])[],
): ClassificationMetrics {
  let correct = 0;
  const precisions: number[] = [];
  const recalls: number[] = [];
  const f1s: number[] = [];
  for (let i = 0; i < truth.length; i++) if (truth[i] === predicted[i]) correct++;
  for (let c = 0; c < classCount; c++) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < truth.length; i++) {
      if (predicted[i] === c && truth[i] === c) tp++;
      else if (predicted[i] === c) fp++;
      else if (truth[i] === c) fn++;
    }
    if (tp + fp + fn === 0) continue;
    const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
    const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
    precisions.push(precision);
    recalls.push(recall);
    f1s.push(precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall));
  }
  const mean = (values: number[]) =>
    values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
  let auc: number | null = null;
  if (probabilities) {
    const classes = classCount === 2 ? [1] : Array.from({ length: classCount }, (_, c) => c);
    const aucs = classes
      .map((c) =>
        rocAuc(
          probabilities.map((p) => p[c] ?? 0),
          truth.map((t) => t === c),
        ),
      )
      .filter((value): value is number => value !== null);
    auc = aucs.length > 0 ? mean(aucs) : null;
  }
  return {
    accuracy: truth.length === 0 ? 0 : correct / truth.length,
    precision: mean(precisions),
    recall: mean(recalls),
    f1: mean(f1s),
    roc_auc: auc,
  };
}

export function regressionMetrics(truth: readonly number[], predicted: readonly number[]): RegressionMetrics {
  const n = truth.length;
  const mean = truth.reduce((a, b) => a + b, 0) / n;
  let squared = 0;
  let absolute = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const error = truth[i]! - predicted[i]!;
    squared += error * error;
    absolute += Math.abs(error);
    total += (truth[i]! - mean) ** 2;
  }
  return { rmse: Math.sqrt(squared / n), mae: absolute / n, r2: total === 0 ? 0 : 1 - squared / total };
}
