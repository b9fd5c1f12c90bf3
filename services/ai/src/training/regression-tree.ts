/** A fitted regression tree as stored: a split on `feature <= threshold`, or a leaf value. */
export type TreeNode =
  { feature: number; threshold: number; left: TreeNode; right: TreeNode } | { value: number };

export interface TreeOptions {
  maxDepth: number;
  /** Told the rows of each leaf; answers the leaf's value (a mean, or a Newton step for log-loss). */
  leafValue: (rows: number[]) => number;
  /** Adds each split's decrease of squared error to its feature (feature importance). */
  gains: number[];
}

/** Values closer than this count as equal, as in scikit-learn: no split between them. */
const SAME_VALUE = 1e-7;

interface Split {
  feature: number;
  threshold: number;
  gain: number;
  left: number[];
  right: number[];
}

/**
 * The split of `rows` that most lowers the squared error of `target`
 * (n_l·n_r/n · (mean_l − mean_r)², which is what Friedman's criterion ranks by),
 * at the midpoint between neighbouring distinct values; the first feature wins a tie.
 */
function bestSplit(X: readonly number[][], target: readonly number[], rows: number[]): Split | undefined {
  const n = rows.length;
  const total = rows.reduce((sum, i) => sum + target[i]!, 0);
  let best: Split | undefined;
  for (let feature = 0; feature < (X[0]?.length ?? 0); feature++) {
    const sorted = [...rows].sort((a, b) => X[a]![feature]! - X[b]![feature]!);
    let leftSum = 0;
    for (let k = 0; k < n - 1; k++) {
      leftSum += target[sorted[k]!]!;
      const here = X[sorted[k]!]![feature]!;
      const next = X[sorted[k + 1]!]![feature]!;
      if (next <= here + SAME_VALUE) continue;
      const nl = k + 1;
      const nr = n - nl;
      const gain = ((nl * nr) / n) * (leftSum / nl - (total - leftSum) / nr) ** 2;
      if (!best || gain > best.gain) {
        const midpoint = (here + next) / 2;
        best = {
          feature,
          threshold: midpoint === next ? here : midpoint,
          gain,
          left: sorted.slice(0, nl),
          right: sorted.slice(nl),
        };
      }
    }
  }
  return best;
}

/** CART regression tree on `target` over `rows` of X, grown to `maxDepth` while a split lowers the error. */
export function growTree(
  X: readonly number[][],
  target: readonly number[],
  rows: number[],
  options: TreeOptions,
  depth = 0,
): TreeNode {
  const mean = rows.reduce((sum, i) => sum + target[i]!, 0) / rows.length;
  const variance = rows.reduce((sum, i) => sum + (target[i]! - mean) ** 2, 0) / rows.length;
  const pure = variance <= Number.EPSILON;
  const split =
    depth < options.maxDepth && rows.length >= 2 && !pure ? bestSplit(X, target, rows) : undefined;
  if (!split || split.gain <= 0) return { value: options.leafValue(rows) };
  options.gains[split.feature]! += split.gain;
  return {
    feature: split.feature,
    threshold: split.threshold,
    left: growTree(X, target, split.left, options, depth + 1),
    right: growTree(X, target, split.right, options, depth + 1),
  };
}

export function predictTree(tree: TreeNode, row: readonly number[]): number {
  let node = tree;
  while (!('value' in node)) node = row[node.feature]! <= node.threshold ? node.left : node.right;
  return node.value;
}
