import { Type, type Static } from 'typebox';

export const TrainParams = Type.Object(
  {
    test_fraction: Type.Optional(
      Type.Number({
        minimum: 0.05,
        maximum: 0.5,
        description: 'Share of rows held out for the test metrics (default 0.25).',
      }),
    ),
    k_folds: Type.Optional(
      Type.Integer({ minimum: 2, maximum: 20, description: 'Also report k-fold cross-validated metrics.' }),
    ),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647, description: 'Default 42.' })),
    n_estimators: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 500,
        description: 'Trees (forests), boosting stages (gradient boosting); default 100.',
      }),
    ),
    max_depth: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 64,
        description: 'Tree depth (forests: unlimited; gradient boosting: 3).',
      }),
    ),
    max_features: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 10_000, description: 'Features tried per split.' }),
    ),
    iterations: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 10_000, description: 'Logistic regression steps (default 500).' }),
    ),
    learning_rate: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 10,
        description:
          'Step size: logistic regression (default 0.5), gradient boosting shrinkage (default 0.1).',
      }),
    ),
    subsample: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 1,
        description:
          'Gradient boosting: share of rows each stage is fitted on (default 1; below 1 is stochastic boosting).',
      }),
    ),
    l2: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    k: Type.Optional(
      Type.Integer({ minimum: 2, maximum: 100, description: 'k-means clusters (default 3).' }),
    ),
    sample_size: Type.Optional(
      Type.Integer({ minimum: 2, maximum: 100_000, description: 'Isolation forest sample (default 256).' }),
    ),
    contamination: Type.Optional(
      Type.Number({
        minimum: 0.001,
        maximum: 0.5,
        description: 'Isolation forest: share flagged as anomalies (default 0.05).',
      }),
    ),
  },
  { additionalProperties: false },
);
export type TrainParams = Static<typeof TrainParams>;
