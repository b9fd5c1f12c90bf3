import { kmeans } from 'ml-kmeans';
import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest';
import MultivariateLinearRegression from 'ml-regression-multivariate-linear';
import {
  boostedProbabilities,
  boostedScores,
  trainBoosting,
  type BoostedModel,
} from './gradient-boosting.ts';
import { anomalyScore, trainIsolationForest, type IsolationForest } from './isolation-forest.ts';
import { logisticProbabilities, trainLogistic, type LogisticModel } from './logistic.ts';
import type { TrainParams } from './train.params.ts';

export const ALGORITHMS = {
  linear_regression: 'regression',
  logistic_regression: 'classification',
  random_forest_classifier: 'classification',
  random_forest_regressor: 'regression',
  gradient_boosting_classifier: 'classification',
  gradient_boosting_regressor: 'regression',
  kmeans: 'clustering',
  isolation_forest: 'anomaly',
} as const;
export type Algorithm = keyof typeof ALGORITHMS;
export type Task = (typeof ALGORITHMS)[Algorithm];

/** A fitted model over encoded rows: classes as indexes, values, cluster numbers, or anomaly scores. */
export interface Estimator {
  predict: (X: number[][]) => number[];
  probabilities?: (X: number[][]) => number[][];
  /** Per encoded column, when the algorithm has a natural measure. */
  importance?: () => number[];
  state: unknown;
}

interface RandomForestInternals {
  featureImportance: () => number[];
}

function randomForestOptions(params: TrainParams, features: number) {
  return {
    nEstimators: params.n_estimators ?? 100,
    // Breiman's defaults: √p features per split for classification, p/3 for regression.
    maxFeatures: params.max_features ?? Math.max(1, Math.round(Math.sqrt(features))),
    seed: params.seed ?? 42,
    replacement: true,
    useSampleBagging: true,
    noOOB: true,
    treeOptions: params.max_depth ? { maxDepth: params.max_depth } : {},
  };
}

function classifierEstimator(forest: RandomForestClassifier, classCount: number): Estimator {
  return {
    predict: (X) => forest.predict(X),
    probabilities: (X) => {
      const byClass = Array.from({ length: classCount }, (_, c) => forest.predictProbability(X, c));
      return X.map((_, i) => byClass.map((column) => column[i] ?? 0));
    },
    importance: () => (forest as unknown as RandomForestInternals).featureImportance(),
    state: forest.toJSON(),
  };
}

function regressionForestEstimator(forest: RandomForestRegression): Estimator {
  return {
    predict: (X) => forest.predict(X),
    importance: () => (forest as unknown as RandomForestInternals).featureImportance(),
    state: forest.toJSON(),
  };
}

function linearEstimator(model: MultivariateLinearRegression): Estimator {
  return {
    predict: (X) => model.predict(X).map((row) => row[0]!),
    importance: () => model.weights.slice(0, -1).map((row) => Math.abs(row[0]!)),
    state: model.toJSON(),
  };
}

function logisticEstimator(model: LogisticModel): Estimator {
  const probabilities = (X: number[][]) => X.map((row) => logisticProbabilities(model, row));
  return {
    predict: (X) => probabilities(X).map((p) => p.indexOf(Math.max(...p))),
    probabilities,
    // Weights are on standardised inputs, so their sizes compare across features.
    importance: () => model.means.map((_, j) => model.weights.reduce((sum, w) => sum + Math.abs(w[j]!), 0)),
    state: model,
  };
}

function boostingEstimator(model: BoostedModel): Estimator {
  const probabilities = (X: number[][]) => X.map((row) => boostedProbabilities(model, row));
  return model.task === 'regression'
    ? {
        predict: (X) => X.map((row) => boostedScores(model, row)[0]!),
        importance: () => model.gains,
        state: model,
      }
    : {
        predict: (X) => probabilities(X).map((p) => p.indexOf(Math.max(...p))),
        probabilities,
        importance: () => model.gains,
        state: model,
      };
}

function boostingOptions(params: TrainParams) {
  // scikit-learn's defaults.
  return {
    nEstimators: params.n_estimators ?? 100,
    learningRate: params.learning_rate ?? 0.1,
    maxDepth: params.max_depth ?? 3,
    subsample: params.subsample ?? 1,
    seed: params.seed ?? 42,
  };
}

function squaredDistance(a: readonly number[], b: readonly number[]): number {
  return a.reduce((sum, value, j) => sum + (value - b[j]!) ** 2, 0);
}

function kmeansEstimator(centroids: number[][]): Estimator {
  return {
    predict: (X) =>
      X.map((row) => {
        const distances = centroids.map((centroid) => squaredDistance(row, centroid));
        return distances.indexOf(Math.min(...distances));
      }),
    state: { centroids },
  };
}

function isolationEstimator(forest: IsolationForest): Estimator {
  return { predict: (X) => X.map((row) => anomalyScore(forest, row)), state: forest };
}

/** Fits `algorithm` on encoded rows; `y` holds class indexes or target values (unused when unsupervised). */
export function fit(
  algorithm: Algorithm,
  X: number[][],
  y: number[],
  classCount: number,
  params: TrainParams,
): Estimator {
  switch (algorithm) {
    case 'random_forest_classifier': {
      const forest = new RandomForestClassifier(randomForestOptions(params, X[0]?.length ?? 1));
      forest.train(X, y);
      return classifierEstimator(forest, classCount);
    }
    case 'random_forest_regressor': {
      const features = X[0]?.length ?? 1;
      const forest = new RandomForestRegression({
        ...randomForestOptions(params, features),
        maxFeatures: params.max_features ?? Math.max(1, Math.round(features / 3)),
      });
      forest.train(X, y);
      return regressionForestEstimator(forest);
    }
    case 'gradient_boosting_classifier':
      return boostingEstimator(trainBoosting(X, y, 'classification', classCount, boostingOptions(params)));
    case 'gradient_boosting_regressor':
      return boostingEstimator(trainBoosting(X, y, 'regression', 0, boostingOptions(params)));
    case 'linear_regression':
      return linearEstimator(
        new MultivariateLinearRegression(
          X,
          y.map((value) => [value]),
          { intercept: true, statistics: false },
        ),
      );
    case 'logistic_regression':
      return logisticEstimator(
        trainLogistic(X, y, classCount, {
          iterations: params.iterations ?? 500,
          learningRate: params.learning_rate ?? 0.5,
          l2: params.l2 ?? 0.001,
        }),
      );
    case 'kmeans':
      return kmeansEstimator(
        kmeans(X, params.k ?? 3, { seed: params.seed ?? 42, initialization: 'kmeans++' }).centroids,
      );
    case 'isolation_forest':
      return isolationEstimator(
        trainIsolationForest(X, {
          trees: params.n_estimators ?? 100,
          sampleSize: params.sample_size ?? 256,
          seed: params.seed ?? 42,
        }),
      );
  }
}

/** The estimator again from its stored state: predictions after loading equal those at training. */
export function restore(algorithm: Algorithm, state: unknown, classCount: number): Estimator {
  switch (algorithm) {
    case 'random_forest_classifier':
      return classifierEstimator(RandomForestClassifier.load(state as never), classCount);
    case 'random_forest_regressor':
      return regressionForestEstimator(RandomForestRegression.load(state as never));
    case 'gradient_boosting_classifier':
    case 'gradient_boosting_regressor':
      return boostingEstimator(state as BoostedModel);
    case 'linear_regression':
      return linearEstimator(MultivariateLinearRegression.load(state as never));
    case 'logistic_regression':
      return logisticEstimator(state as LogisticModel);
    case 'kmeans':
      return kmeansEstimator((state as { centroids: number[][] }).centroids);
    case 'isolation_forest':
      return isolationEstimator(state as IsolationForest);
  }
}
