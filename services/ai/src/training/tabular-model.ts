import type { IoSchema } from '../models/models.schemas.ts';
import { ALGORITHMS, restore, type Algorithm, type Estimator, type Task } from './algorithms.ts';
import { encodeRow, inputFields, type FeatureEncoding } from './preprocess.ts';

/** A built-in model as stored: the encodings learned in training travel with the fitted state. */
export interface TabularArtifact {
  format: 'datalab-tabular/1';
  algorithm: Algorithm;
  task: Task;
  encodings: FeatureEncoding[];
  target: string | null;
  /** Class labels, index = what the estimator predicts (classification). */
  classes: string[] | null;
  /** Scores at or above this are anomalies (isolation forest). */
  threshold: number | null;
  state: unknown;
}

export interface TabularModel {
  artifact: TabularArtifact;
  predict: (rows: readonly Record<string, unknown>[]) => Record<string, unknown>[];
}

export function tabularModel(artifact: TabularArtifact, estimator?: Estimator): TabularModel {
  const fitted = estimator ?? restore(artifact.algorithm, artifact.state, artifact.classes?.length ?? 0);
  return {
    artifact,
    predict: (rows) => {
      const X = rows.map((row) => encodeRow(artifact.encodings, row));
      const values = fitted.predict(X);
      switch (artifact.task) {
        case 'classification': {
          const classes = artifact.classes ?? [];
          const probabilities = fitted.probabilities?.(X);
          return values.map((index, i) => ({
            prediction: classes[index] ?? null,
            ...(probabilities
              ? {
                  probabilities: Object.fromEntries(
                    classes.map((label, c) => [label, probabilities[i]![c]!]),
                  ),
                }
              : {}),
          }));
        }
        case 'regression':
          return values.map((value) => ({ prediction: value }));
        case 'clustering':
          return values.map((cluster) => ({ cluster }));
        case 'anomaly':
          return values.map((score) => ({ score, anomaly: score >= (artifact.threshold ?? 0.5) }));
      }
    },
  };
}

export function parseTabularArtifact(bytes: Uint8Array): TabularArtifact {
  const artifact = JSON.parse(Buffer.from(bytes).toString('utf8')) as TabularArtifact;
  if (artifact.format !== 'datalab-tabular/1' || !(artifact.algorithm in ALGORITHMS))
    throw new Error('not a datalab tabular model artifact');
  return artifact;
}

export function tabularInputSchema(artifact: TabularArtifact): IoSchema {
  return { fields: inputFields(artifact.encodings) };
}

export function tabularOutputSchema(artifact: TabularArtifact): IoSchema {
  switch (artifact.task) {
    case 'classification':
      return {
        fields: [
          { name: 'prediction', type: 'string', nullable: false, categories: artifact.classes ?? [] },
          {
            name: 'probabilities',
            type: 'tensor',
            dtype: 'float64',
            shape: [artifact.classes?.length ?? 0],
            nullable: true,
            categories: artifact.classes ?? [],
          },
        ],
      };
    case 'regression':
      return { fields: [{ name: 'prediction', type: 'number', nullable: false }] };
    case 'clustering':
      return { fields: [{ name: 'cluster', type: 'number', nullable: false }] };
    case 'anomaly':
      return {
        fields: [
          { name: 'score', type: 'number', nullable: false },
          { name: 'anomaly', type: 'string', nullable: false, categories: ['true', 'false'] },
        ],
      };
  }
}
