import { Type, type Static, type TSchema } from 'typebox';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time' });

export const Visibility = Type.Union([Type.Literal('private'), Type.Literal('shared')]);
export const Stage = Type.Union(
  [Type.Literal('staging'), Type.Literal('production'), Type.Literal('archived')],
  {
    description: '`staging` (new), `production` (served by default; one per model), `archived`.',
  },
);
export type Stage = Static<typeof Stage>;

export const FieldSpec = Type.Object({
  name: Type.String(),
  type: Type.Union([Type.Literal('number'), Type.Literal('string'), Type.Literal('tensor')], {
    description: '`number`/`string`: one value per row; `tensor`: a nested array of `dtype` with `shape`.',
  }),
  dtype: Type.Optional(Type.String({ description: 'Tensor element type (float32, int64, ...).' })),
  shape: Type.Optional(
    Type.Array(Nullable(Type.Integer()), {
      description: 'Per-row dimensions of a tensor (the batch dimension left out); null: any size.',
    }),
  ),
  nullable: Type.Boolean({ description: 'Whether null or a missing value is accepted (imputed).' }),
  categories: Type.Optional(Type.Array(Type.String(), { description: 'Categories seen in training.' })),
});
export type FieldSpec = Static<typeof FieldSpec>;

export const IoSchema = Type.Object({ fields: Type.Array(FieldSpec) });
export type IoSchema = Static<typeof IoSchema>;

export const ModelVersion = Type.Object({
  model_id: Type.String({ format: 'uuid' }),
  version: Type.Integer(),
  stage: Stage,
  kind: Type.Union([Type.Literal('onnx'), Type.Literal('tabular')]),
  algorithm: Type.String(),
  task: Type.String({ description: '`classification`, `regression`, `clustering`, `anomaly` or `onnx`.' }),
  input_schema: IoSchema,
  output_schema: IoSchema,
  metrics: Type.Record(Type.String(), Type.Unknown()),
  lineage: Type.Record(Type.String(), Type.Unknown(), {
    description:
      'What it came from: dataset id, name and version, target, features, params, job id; or the uploaded file.',
  }),
  artifact_bytes: Type.Integer(),
  artifact_sha256: Type.String(),
  created_at: Timestamp,
});
export type ModelVersion = Static<typeof ModelVersion>;

export const ModelSummary = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  description: Type.String(),
  owner_id: Type.String({ format: 'uuid' }),
  visibility: Visibility,
  latest_version: Nullable(Type.Integer()),
  production_version: Nullable(Type.Integer()),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type ModelSummary = Static<typeof ModelSummary>;

export const Model = Type.Object({ ...ModelSummary.properties, versions: Type.Array(ModelVersion) });
export type Model = Static<typeof Model>;

export const ModelList = Type.Object({ models: Type.Array(ModelSummary), total: Type.Integer() });
export type ModelList = Static<typeof ModelList>;

export const ListModelsQuery = Type.Object({
  owner: Type.Optional(Type.Literal('me', { description: 'Only my own models.' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
});
export type ListModelsQuery = Static<typeof ListModelsQuery>;

export const ModelIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const VersionParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  version: Type.Integer({ minimum: 1 }),
});

export const UpdateModelBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    visibility: Type.Optional(Visibility),
  },
  { additionalProperties: false },
);
export type UpdateModelBody = Static<typeof UpdateModelBody>;

export const UpdateVersionBody = Type.Object({ stage: Stage }, { additionalProperties: false });
export type UpdateVersionBody = Static<typeof UpdateVersionBody>;

export const UploadFields = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    visibility: Type.Optional(Visibility),
    model_id: Type.Optional(Type.String({ format: 'uuid', description: 'Add a version to this model.' })),
  },
  { additionalProperties: false },
);
export type UploadFields = Static<typeof UploadFields>;
