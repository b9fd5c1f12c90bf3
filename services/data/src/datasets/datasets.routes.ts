import { principalOf, type App } from '@datalab/platform';
import { Type } from 'typebox';
import {
  DatasetIdParams,
  DatasetList,
  DatasetSchema,
  ListDatasetsQuery,
  RejectsParams,
  UpdateDatasetBody,
  UploadOptions,
  UploadResult,
  VersionList,
} from './datasets.schemas.ts';
import type { DatasetsService } from './datasets.service.ts';
import { readUpload } from './upload-request.ts';
import type { UploadLimits } from './upload-spool.ts';

const tags = ['datasets'];
const uploadDescription =
  'multipart/form-data: option fields first (name, description, visibility, format, delimiter, quote, header, encoding, sheet, types, on_error), then the file in the field "file". Options may also be query parameters.';

export function datasetsRoutes(app: App, datasets: DatasetsService, uploadLimits: UploadLimits): void {
  app.post(
    '/api/v1/data/datasets',
    {
      schema: {
        tags,
        summary: 'Upload a file as a new dataset (CSV/TSV, JSON, NDJSON, Parquet, Excel).',
        description: uploadDescription,
        querystring: Type.Partial(UploadOptions),
        response: { 201: UploadResult },
      },
    },
    async (request, reply) => {
      // A refused upload is answered before its body is read to the end: close the connection after.
      void reply.header('connection', 'close');
      const { options, file, remove } = await readUpload(request, uploadLimits);
      const created = await datasets.create(principalOf(request), options, file).finally(remove);
      void reply.removeHeader('connection');
      return reply.code(201).send(created);
    },
  );

  app.post(
    '/api/v1/data/datasets/:id/versions',
    {
      schema: {
        tags,
        summary: 'Append rows to a dataset, or replace its contents (mode=append|replace): a new version.',
        description: uploadDescription,
        params: DatasetIdParams,
        querystring: Type.Partial(UploadOptions),
        response: { 201: UploadResult },
      },
    },
    async (request, reply) => {
      void reply.header('connection', 'close');
      const { options, file, remove } = await readUpload(request, uploadLimits);
      const written = await datasets
        .addVersion(principalOf(request), request.params.id, options, file)
        .finally(remove);
      void reply.removeHeader('connection');
      return reply.code(201).send(written);
    },
  );

  app.get(
    '/api/v1/data/datasets',
    {
      schema: {
        tags,
        summary: 'Datasets I may read.',
        querystring: ListDatasetsQuery,
        response: { 200: DatasetList },
      },
    },
    (request) => datasets.list(principalOf(request), request.query),
  );

  app.get(
    '/api/v1/data/datasets/:id',
    {
      schema: {
        tags,
        summary: 'One dataset (by id or name).',
        params: DatasetIdParams,
        response: { 200: DatasetSchema },
      },
    },
    (request) => datasets.get(principalOf(request), request.params.id),
  );

  app.patch(
    '/api/v1/data/datasets/:id',
    {
      schema: {
        tags,
        summary: 'Rename a dataset, or change its description or visibility.',
        params: DatasetIdParams,
        body: UpdateDatasetBody,
        response: { 200: DatasetSchema },
      },
    },
    (request) => datasets.update(principalOf(request), request.params.id, request.body),
  );

  app.delete(
    '/api/v1/data/datasets/:id',
    {
      schema: {
        tags,
        summary: 'Delete a dataset: its rows and its metadata.',
        params: DatasetIdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await datasets.delete(principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/data/datasets/:id/versions',
    {
      schema: {
        tags,
        summary: 'What each version did.',
        params: DatasetIdParams,
        response: { 200: VersionList },
      },
    },
    (request) => datasets.versions(principalOf(request), request.params.id),
  );

  app.get(
    '/api/v1/data/datasets/:id/rejects/:rejectsId',
    {
      schema: { tags, summary: 'The rows an on_error=skip upload left out, as CSV.', params: RejectsParams },
    },
    async (request, reply) => {
      const csv = await datasets.rejects(principalOf(request), request.params.id, request.params.rejectsId);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="rejects.csv"')
        .send(csv);
    },
  );
}
