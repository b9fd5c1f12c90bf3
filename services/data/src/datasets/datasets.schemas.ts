import { Type, type Static } from 'typebox';

const Visibility = Type.Union([Type.Literal('private'), Type.Literal('shared')]);
const ColumnTypeSchema = Type.Union([
  Type.Literal('integer'),
  Type.Literal('float'),
  Type.Literal('boolean'),
  Type.Literal('date'),
  Type.Literal('timestamp'),
  Type.Literal('text'),
  Type.Literal('json'),
]);

export const DatasetColumnSchema = Type.Object({
  name: Type.String({ description: 'SQL-safe column name.' }),
  original_name: Type.String({ description: 'As it appeared in the file.' }),
  type: ColumnTypeSchema,
});

export const DatasetSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String({ description: 'The name SQL uses: SELECT … FROM <name>.' }),
  description: Type.String(),
  owner_id: Type.String({ format: 'uuid' }),
  visibility: Visibility,
  columns: Type.Array(DatasetColumnSchema),
  row_count: Type.Integer(),
  bytes: Type.Integer(),
  version: Type.Integer(),
  source_format: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type DatasetView = Static<typeof DatasetSchema>;

export const RejectRow = Type.Object({
  line: Type.Integer(),
  column: Type.Optional(Type.String()),
  value: Type.Optional(Type.String()),
  expected: Type.Optional(Type.String()),
  message: Type.String(),
});

export const UploadResult = Type.Object({
  dataset: DatasetSchema,
  rows_written: Type.Integer(),
  rejects: Type.Object({
    count: Type.Integer(),
    first: Type.Array(RejectRow),
    download: Type.Union([Type.String(), Type.Null()], {
      description: 'Where the rejected rows can be downloaded as CSV.',
    }),
  }),
});

/** Format options, as multipart fields before the file or as query parameters. */
export const UploadOptions = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 63 })),
  description: Type.Optional(Type.String({ maxLength: 4000 })),
  visibility: Type.Optional(Visibility),
  format: Type.Optional(
    Type.Union([
      Type.Literal('csv'),
      Type.Literal('json'),
      Type.Literal('ndjson'),
      Type.Literal('parquet'),
      Type.Literal('xlsx'),
    ]),
  ),
  delimiter: Type.Optional(Type.String({ minLength: 1, maxLength: 2 })),
  quote: Type.Optional(Type.String({ minLength: 1, maxLength: 1 })),
  header: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  encoding: Type.Optional(
    Type.Union([
      Type.Literal('utf-8'),
      Type.Literal('utf-16le'),
      Type.Literal('utf-16be'),
      Type.Literal('latin1'),
    ]),
  ),
  sheet: Type.Optional(Type.String()),
  types: Type.Optional(Type.String({ description: 'Per-column types as JSON: {"column": "text", ...}' })),
  on_error: Type.Optional(Type.Union([Type.Literal('fail'), Type.Literal('skip')])),
  mode: Type.Optional(Type.Union([Type.Literal('append'), Type.Literal('replace')])),
});
export type UploadOptions = Static<typeof UploadOptions>;

export const DatasetIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export const ListDatasetsQuery = Type.Object({
  search: Type.Optional(Type.String({ maxLength: 200 })),
  owner: Type.Optional(Type.Literal('me')),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
});

export const DatasetList = Type.Object({ datasets: Type.Array(DatasetSchema), total: Type.Integer() });

export const UpdateDatasetBody = Type.Object(
  {
    name: Type.Optional(
      Type.String({
        maxLength: 63,
        description: 'A new name for SQL; saved SQL that names the dataset the old way stops finding it.',
      }),
    ),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    visibility: Type.Optional(Visibility),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const VersionList = Type.Object({
  versions: Type.Array(
    Type.Object({
      version: Type.Integer(),
      mode: Type.String(),
      rows_written: Type.Integer(),
      rows_rejected: Type.Integer(),
      created_by: Type.String(),
      created_at: Type.String({ format: 'date-time' }),
    }),
  ),
});

export const RejectsParams = Type.Object({ id: Type.String(), rejectsId: Type.String({ format: 'uuid' }) });
