import { seededRandom, shuffled } from './random.ts';

export interface Fold {
  train: number[];
  test: number[];
}

/** Row indexes grouped by label (stratified) or all in one group, each group shuffled with the seed. */
function groups(count: number, labels: readonly number[] | undefined, seed: number): number[][] {
  const random = seededRandom(seed);
  const indexes = Array.from({ length: count }, (_, i) => i);
  if (!labels) return [shuffled(indexes, random)];
  const byLabel = new Map<number, number[]>();
  for (const i of indexes) {
    const label = labels[i]!;
    const group = byLabel.get(label) ?? [];
    group.push(i);
    byLabel.set(label, group);
  }
  return [...byLabel.keys()].sort((a, b) => a - b).map((label) => shuffled(byLabel.get(label)!, random));
}

/** A train/test split; with `labels` every class keeps its share in both parts. */
export function trainTestSplit(
  count: number,
  testFraction: number,
  seed: number,
  labels?: readonly number[],
): Fold {
  const fold: Fold = { train: [], test: [] };
  for (const group of groups(count, labels, seed)) {
    const testCount = Math.round(group.length * testFraction);
    fold.test.push(...group.slice(0, testCount));
    fold.train.push(...group.slice(testCount));
  }
  return fold;
}

/** k folds; each row is in exactly one test part. Stratified when `labels` are given. */
export function kFolds(count: number, k: number, seed: number, labels?: readonly number[]): Fold[] {
  const parts: number[][] = Array.from({ length: k }, () => []);
  let next = 0;
  for (const group of groups(count, labels, seed)) {
    for (const index of group) {
      parts[next % k]!.push(index);
      next += 1;
    }
  }
  return parts.map((test, i) => ({ test, train: parts.filter((_, j) => j !== i).flat() }));
}
