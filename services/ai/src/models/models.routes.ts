import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { principalOf, type App } from '@datalab/platform';
import { readModelUpload } from './model-upload.ts';
import {
  ListModelsQuery,
  Model,
  ModelIdParams,
  ModelList,
  ModelVersion,
  UpdateModelBody,
  UpdateVersionBody,
  VersionParams,
} from './models.schemas.ts';
import type { ModelsService } from './models.service.ts';
import type { OnnxUploads } from './onnx-upload.ts';

const tags = ['models'];

function sendFile(
  reply: FastifyReply,
  file: { bytes: Buffer; filename: string; type: string },
): FastifyReply {
  return reply
    .type(file.type)
    .header('content-disposition', `attachment; filename="${file.filename}"`)
    .send(file.bytes);
}
const MODELS = '/api/v1/ai/models';

export function modelsRoutes(
  app: App,
  models: ModelsService,
  onnx: OnnxUploads,
  maxModelBytes: number,
): void {
  app.get(
    MODELS,
    {
      schema: {
        tags,
        summary: 'Models I may read: my own and the shared ones (admins: all).',
        querystring: ListModelsQuery,
        response: { 200: ModelList },
      },
    },
    (request) => models.list(principalOf(request), request.query),
  );

  app.post(
    `${MODELS}/onnx`,
    {
      schema: {
        tags,
        summary:
          'Upload an .onnx model (editors and admins): it must load; its inputs and outputs become its schema.',
        description:
          'multipart/form-data: fields name, description, visibility, model_id (a new version of that model), then the file in "file".',
        response: { 201: ModelVersion },
      },
    },
    async (request, reply) => {
      void reply.header('connection', 'close');
      const upload = await readModelUpload(request, maxModelBytes);
      const version = await onnx.upload(principalOf(request), upload);
      void reply.removeHeader('connection');
      return reply.code(201).send(version);
    },
  );

  app.get(
    `${MODELS}/:id`,
    {
      schema: {
        tags,
        summary: 'One model with all its versions.',
        params: ModelIdParams,
        response: { 200: Model },
      },
    },
    (request) => models.get(principalOf(request), request.params.id),
  );

  app.patch(
    `${MODELS}/:id`,
    {
      schema: {
        tags,
        summary: 'Rename, describe or share a model (its owner or an admin).',
        params: ModelIdParams,
        body: UpdateModelBody,
        response: { 200: Model },
      },
    },
    (request) => models.update(principalOf(request), request.params.id, request.body),
  );

  app.delete(
    `${MODELS}/:id`,
    {
      schema: {
        tags,
        summary: 'Delete a model, its versions and artifacts (its owner or an admin).',
        params: ModelIdParams,
        response: { 204: Type.Null({ description: 'Deleted.' }) },
      },
    },
    async (request, reply) => {
      await models.delete(principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    `${MODELS}/:id/versions`,
    {
      schema: {
        tags,
        summary: 'A model’s versions, newest first.',
        params: ModelIdParams,
        response: { 200: Type.Object({ versions: Type.Array(ModelVersion) }) },
      },
    },
    async (request) => ({ versions: await models.versions(principalOf(request), request.params.id) }),
  );

  app.get(
    `${MODELS}/:id/versions/:version`,
    {
      schema: {
        tags,
        summary: 'One version: stage, schemas, metrics, lineage.',
        params: VersionParams,
        response: { 200: ModelVersion },
      },
    },
    (request) => models.version(principalOf(request), request.params.id, request.params.version),
  );

  app.patch(
    `${MODELS}/:id/versions/:version`,
    {
      schema: {
        tags,
        summary: 'Move a version to staging, production (archives the previous production one) or archived.',
        params: VersionParams,
        body: UpdateVersionBody,
        response: { 200: ModelVersion },
      },
    },
    (request) =>
      models.setStage(principalOf(request), request.params.id, request.params.version, request.body.stage),
  );

  app.get(
    `${MODELS}/:id/versions/:version/artifact`,
    {
      schema: {
        tags,
        summary: 'Download a version’s artifact: the .onnx file, or the built-in model as JSON.',
        params: VersionParams,
        response: {
          200: {
            description: 'The artifact.',
            content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
          },
        },
      },
    },
    async (request, reply) => {
      const artifact = await models.artifact(principalOf(request), request.params.id, request.params.version);
      return sendFile(reply, artifact);
    },
  );
}
