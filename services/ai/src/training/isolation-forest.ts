import { seededRandom } from './random.ts';

/**
 * Isolation forest (Liu, Ting & Zhou, 2008): anomalies are isolated by fewer
 * random splits. Written here: the npm candidates are unmaintained single
 * releases. Score in (0, 1]; above ~0.6 is usually anomalous.
 */
export type IsolationNode =
  { size: number } | { feature: number; split: number; left: IsolationNode; right: IsolationNode };

export interface IsolationForest {
  trees: IsolationNode[];
  sampleSize: number;
}

/** Average path length of an unsuccessful BST search over n points: the normaliser c(n). */
function averagePath(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + 0.5772156649) - (2 * (n - 1)) / n;
}

function grow(rows: number[][], depth: number, limit: number, random: () => number): IsolationNode {
  if (depth >= limit || rows.length <= 1) return { size: rows.length };
  const features = rows[0]!.length;
  const candidates = Array.from({ length: features }, (_, j) => j).filter((j) => {
    const first = rows[0]![j]!;
    return rows.some((row) => row[j] !== first);
  });
  if (candidates.length === 0) return { size: rows.length };
  const feature = candidates[Math.floor(random() * candidates.length)]!;
  let min = Infinity;
  let max = -Infinity;
  for (const row of rows) {
    min = Math.min(min, row[feature]!);
    max = Math.max(max, row[feature]!);
  }
  const split = min + random() * (max - min);
  return {
    feature,
    split,
    left: grow(
      rows.filter((row) => row[feature]! < split),
      depth + 1,
      limit,
      random,
    ),
    right: grow(
      rows.filter((row) => row[feature]! >= split),
      depth + 1,
      limit,
      random,
    ),
  };
}

export function trainIsolationForest(
  X: readonly number[][],
  options: { trees: number; sampleSize: number; seed: number },
): IsolationForest {
  const random = seededRandom(options.seed);
  const sampleSize = Math.min(options.sampleSize, X.length);
  const limit = Math.ceil(Math.log2(Math.max(sampleSize, 2)));
  const trees = Array.from({ length: options.trees }, () => {
    const sample = Array.from({ length: sampleSize }, () => X[Math.floor(random() * X.length)]!);
    return grow(sample, 0, limit, random);
  });
  return { trees, sampleSize };
}

function pathLength(node: IsolationNode, row: readonly number[], depth: number): number {
  if ('size' in node) return depth + averagePath(node.size);
  return pathLength(row[node.feature]! < node.split ? node.left : node.right, row, depth + 1);
}

export function anomalyScore(forest: IsolationForest, row: readonly number[]): number {
  const mean = forest.trees.reduce((sum, tree) => sum + pathLength(tree, row, 0), 0) / forest.trees.length;
  return 2 ** (-mean / averagePath(forest.sampleSize));
}
