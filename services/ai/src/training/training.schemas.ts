import { Type, type Static } from 'typebox';
import { ALGORITHMS } from './algorithms.ts';
import { TrainParams } from './train.params.ts';

const Visibility = Type.Union([Type.Literal('private'), Type.Literal('shared')]);

export const AlgorithmSchema = Type.Union(
  [
    Type.Literal('linear_regression'),
    Type.Literal('logistic_regression'),
    Type.Literal('random_forest_classifier'),
    Type.Literal('random_forest_regressor'),
    Type.Literal('gradient_boosting_classifier'),
    Type.Literal('gradient_boosting_regressor'),
    Type.Literal('kmeans'),
    Type.Literal('isolation_forest'),
  ],
  {
    description: Object.entries(ALGORITHMS)
      .map(([name, task]) => `\`${name}\` (${task})`)
      .join(', '),
  },
);

export const TrainBody = Type.Object(
  {
    dataset: Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'Dataset id or name (one I may read).',
    }),
    target: Type.Optional(
      Type.String({ minLength: 1, maxLength: 63, description: 'Column to predict (supervised algorithms).' }),
    ),
    features: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 63 }), {
        minItems: 1,
        maxItems: 1000,
        description: 'Input columns (default: every column but the target).',
      }),
    ),
    algorithm: AlgorithmSchema,
    params: Type.Optional(TrainParams),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Name of the new model.' })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    visibility: Type.Optional(Visibility),
    model_id: Type.Optional(
      Type.String({ format: 'uuid', description: 'Add the trained version to this model instead.' }),
    ),
  },
  { additionalProperties: false },
);
export type TrainBody = Static<typeof TrainBody>;

export const PredictBatchBody = Type.Object(
  {
    dataset: Type.String({ minLength: 1, maxLength: 100, description: 'Dataset id or name to score.' }),
    version: Type.Optional(Type.Integer({ minimum: 1, description: 'Default: the served version.' })),
    output_name: Type.Optional(
      Type.String({
        pattern: '^[a-z_][a-z0-9_]{0,62}$',
        description: 'Name of the new dataset (default <dataset>_scored_<n>).',
      }),
    ),
    visibility: Type.Optional(Visibility),
  },
  { additionalProperties: false },
);
export type PredictBatchBody = Static<typeof PredictBatchBody>;

export const JobAccepted = Type.Object({
  job: Type.Record(Type.String(), Type.Unknown(), {
    description: 'The compute job (`GET /api/v1/compute/jobs/{id}`).',
  }),
});

export const PredictBody = Type.Object(
  {
    rows: Type.Array(Type.Record(Type.String(), Type.Unknown()), {
      minItems: 1,
      description: 'Objects of input name → value, checked against the model version’s input schema.',
    }),
  },
  { additionalProperties: false },
);
export type PredictBody = Static<typeof PredictBody>;

export const PredictQuery = Type.Object({
  version: Type.Optional(
    Type.Integer({ minimum: 1, description: 'Default: the production version, else the newest.' }),
  ),
});

export const PredictAnswer = Type.Object({
  model_id: Type.String({ format: 'uuid' }),
  version: Type.Integer(),
  predictions: Type.Array(Type.Record(Type.String(), Type.Unknown()), {
    description:
      'One per row, in order: the model’s outputs (ONNX), or prediction and class probabilities (built-in).',
  }),
});
