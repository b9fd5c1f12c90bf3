import { principalOf, type App } from '@datalab/platform';
import { ModelIdParams } from '../models/models.schemas.ts';
import type { TrainingService } from '../training/training.service.ts';
import {
  JobAccepted,
  PredictAnswer,
  PredictBatchBody,
  PredictBody,
  PredictQuery,
  TrainBody,
} from '../training/training.schemas.ts';
import type { InferenceService } from './inference.service.ts';

const tags = ['inference'];

export function predictRoutes(app: App, inference: InferenceService, training: TrainingService): void {
  app.post(
    '/api/v1/ai/models/:id/predict',
    {
      schema: {
        tags,
        summary:
          'Predict: rows checked against the input schema, batched with concurrent requests to the same model.',
        description:
          '400 names each field at fault (/body/rows/<i>/<input>); 503 with Retry-After when the model’s queue is full or its circuit is open.',
        params: ModelIdParams,
        querystring: PredictQuery,
        body: PredictBody,
        response: { 200: PredictAnswer },
      },
    },
    (request) =>
      inference.predict(principalOf(request), request.params.id, request.body.rows, request.query.version),
  );

  app.post(
    '/api/v1/ai/models/train',
    {
      schema: {
        tags,
        summary: 'Train a built-in model on a dataset (editors and admins): a compute job, queue `ai`.',
        body: TrainBody,
        response: { 202: JobAccepted },
      },
    },
    async (request, reply) =>
      reply.code(202).send({ job: await training.train(principalOf(request), request.body) }),
  );

  app.post(
    '/api/v1/ai/models/:id/predict-batch',
    {
      schema: {
        tags,
        summary:
          'Score a whole dataset as a compute job; the rows and their predictions become a new dataset.',
        params: ModelIdParams,
        body: PredictBatchBody,
        response: { 202: JobAccepted },
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send({ job: await training.predictBatch(principalOf(request), request.params.id, request.body) }),
  );
}
