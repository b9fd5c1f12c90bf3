import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '@datalab/contracts';
import { startService, type Platform, type Principal, type RunningService } from '@datalab/platform';
import { testEnv, testPlatform, uniqueName } from '../../../../test/helpers.ts';
import { callAs, callJson, person } from '../../../../test/internal.ts';
import { aiService } from '../definition.ts';
import type { ModelVersion } from '../models/models.schemas.ts';
import { externalDataModel, linearModel, twoInputModel } from './onnx.test-fixtures.ts';

const MODELS = '/api/v1/ai/models';

let platform: Platform;
let ai: RunningService;
/** Holds requests 1 s for company and refuses past 10 queued rows: batching and back-pressure made visible. */
let patient: RunningService;
/** Room for about two small models: the LRU has to evict. */
let tiny: RunningService;
const editor = person('editor');

beforeAll(async () => {
  platform = await testPlatform();
  ai = await startService(aiService, platform, { env: testEnv(), port: 0 });
  patient = await startService(aiService, platform, {
    env: testEnv({ AI_BATCH_MAX_WAIT_MS: '1000', AI_BATCH_MAX_SIZE: '1000', AI_QUEUE_LIMIT: '10' }),
    port: 0,
  });
  tiny = await startService(aiService, platform, { env: testEnv({ AI_MODEL_CACHE_BYTES: '1024' }), port: 0 });
});
afterAll(async () => {
  await tiny?.close();
  await patient?.close();
  await ai?.close();
  await platform?.close();
});

async function upload(
  as: Principal,
  bytes: Uint8Array,
  fields: Record<string, string> = {},
  service = ai,
): Promise<{ status: number; body: ModelVersion & Problem }> {
  const form = new FormData();
  form.append('name', fields.name ?? uniqueName('model'));
  for (const [key, value] of Object.entries(fields)) if (key !== 'name') form.append(key, value);
  form.append('file', new Blob([bytes]), 'model.onnx');
  const response = await callAs(platform, service, as, `${MODELS}/onnx`, { method: 'POST', body: form });
  return { status: response.status, body: (await response.json()) as ModelVersion & Problem };
}

function json<T = Problem>(
  as: Principal,
  method: string,
  path: string,
  body?: unknown,
  service = ai,
): Promise<{ status: number; body: T; headers: Headers }> {
  return callJson<T>(platform, service, as, method, path, body);
}

interface Predicted {
  model_id: string;
  version: number;
  predictions: Record<string, unknown>[];
}

const predict = (as: Principal, id: string, rows: unknown[], service = ai) =>
  json<Predicted & Problem>(as, 'POST', `${MODELS}/${id}/predict`, { rows }, service);

describe('ONNX models: upload, schema, inference', () => {
  it('an uploaded model records its inputs and outputs and predicts the values computed by hand', async () => {
    const uploaded = await upload(editor, linearModel([1, 2, 3], 0.5));
    expect(uploaded.status).toBe(201);
    expect(uploaded.body.input_schema.fields).toEqual([
      { name: 'x', type: 'tensor', dtype: 'float32', shape: [3], nullable: false },
    ]);
    expect(uploaded.body.output_schema.fields).toEqual([
      { name: 'y', type: 'tensor', dtype: 'float32', shape: [1], nullable: false },
    ]);
    const answer = await predict(editor, uploaded.body.model_id, [
      { x: [1, 1, 1] },
      { x: [2, 0, 1] },
      { x: [0.5, -1, 4] },
    ]);
    expect(answer.status).toBe(200);
    // 1+2+3+0.5; 2+0+3+0.5; 0.5-2+12+0.5
    expect(answer.body.predictions).toEqual([{ y: [6.5] }, { y: [5.5] }, { y: [11] }]);
  });

  it('inputs of different element types are each filled from their own field', async () => {
    const uploaded = await upload(editor, twoInputModel());
    const answer = await predict(editor, uploaded.body.model_id, [
      { a: [1, 2], n: [2] },
      { a: [3, 4], n: [3] },
    ]);
    expect(answer.body.predictions).toEqual([{ out: 6 }, { out: 21 }]);
  });

  it('a malformed .onnx file is refused with 400 and leaves no model behind', async () => {
    const name = uniqueName('broken');
    const answer = await upload(editor, new TextEncoder().encode('this is not a protobuf'), { name });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ field: 'file', message: 'is not a loadable ONNX model' }]);
    const mine = await json<{ models: { name: string }[] }>(editor, 'GET', `${MODELS}?owner=me&limit=500`);
    expect(mine.body.models.map((model) => model.name)).not.toContain(name);
  });

  it('a model that points at files on the server (external data) is refused, whatever the path', async () => {
    for (const location of ['/etc/hostname', '../../../../etc/hostname', 'package.json']) {
      const answer = await upload(editor, externalDataModel(location));
      expect(answer.status, location).toBe(400);
      expect(answer.body.errors?.[0]?.field).toBe('file');
    }
  });

  it('wrong shape, wrong type, a missing or unknown input → 400 naming the field', async () => {
    const { body: linear } = await upload(editor, linearModel([1, 2, 3], 0));
    const { body: two } = await upload(editor, twoInputModel());
    const cases: [string, unknown[], string, RegExp][] = [
      [linear.model_id, [{ x: [1, 2, 3] }, { x: [1, 2] }], '/body/rows/1/x', /3 values/],
      [linear.model_id, [{ x: [[1], [2], [3]] }], '/body/rows/0/x/0', /number/],
      [linear.model_id, [{ x: [1, 'two', 3] }], '/body/rows/0/x/1', /number/],
      [linear.model_id, [{}], '/body/rows/0/x', /required/],
      [linear.model_id, [{ x: [1, 2, 3], z: 1 }], '/body/rows/0/z', /not an input/],
      [two.model_id, [{ a: [1, 2], n: [1.5] }], '/body/rows/0/n/0', /integer/],
      [two.model_id, [{ a: [1, 2] }], '/body/rows/0/n', /required/],
    ];
    for (const [id, rows, field, message] of cases) {
      const answer = await predict(editor, id, rows);
      expect(answer.status, field).toBe(400);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(answer.body.errors?.[0]?.field).toBe(field);
      expect(answer.body.errors?.[0]?.message).toMatch(message);
    }
  });

  it('versions: a second upload is version 2; promoting it archives nothing else; the artifact downloads as sent', async () => {
    const first = await upload(editor, linearModel([1, 0, 0], 0));
    const bytes = linearModel([0, 1, 0], 0);
    const second = await upload(editor, bytes, { model_id: first.body.model_id });
    expect(second.body.version).toBe(2);
    // Served by default: the newest while nothing is in production…
    expect((await predict(editor, first.body.model_id, [{ x: [1, 2, 3] }])).body.predictions).toEqual([
      { y: [2] },
    ]);
    const promoted = await json<ModelVersion>(
      editor,
      'PATCH',
      `${MODELS}/${first.body.model_id}/versions/1`,
      { stage: 'production' },
    );
    expect(promoted.body.stage).toBe('production');
    // …then the production one.
    expect((await predict(editor, first.body.model_id, [{ x: [1, 2, 3] }])).body.predictions).toEqual([
      { y: [1] },
    ]);
    const artifact = await callAs(
      platform,
      ai,
      editor,
      `${MODELS}/${first.body.model_id}/versions/2/artifact`,
    );
    expect(Buffer.from(await artifact.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
  });

  it('a viewer cannot use another user’s private model; once shared, they can', async () => {
    const { body } = await upload(editor, linearModel([1, 1, 1], 0));
    const viewer = person('viewer');
    const refused = await predict(viewer, body.model_id, [{ x: [1, 1, 1] }]);
    expect(refused.status).toBe(404);
    expect(
      (await json(person('editor'), 'PATCH', `${MODELS}/${body.model_id}`, { visibility: 'shared' })).status,
    ).toBe(404);
    expect((await json(viewer, 'PATCH', `${MODELS}/${body.model_id}`, { visibility: 'shared' })).status).toBe(
      404,
    );
    expect((await json(editor, 'PATCH', `${MODELS}/${body.model_id}`, { visibility: 'shared' })).status).toBe(
      200,
    );
    expect((await predict(viewer, body.model_id, [{ x: [1, 1, 1] }])).body.predictions).toEqual([{ y: [3] }]);
    expect((await json(viewer, 'DELETE', `${MODELS}/${body.model_id}`)).status).toBe(403);
    expect((await upload(viewer, linearModel([1], 0))).status).toBe(403);
  });
});

/** The value of a Prometheus series: `name` with (at least) these labels. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  const found = text
    .split('\n')
    .find(
      (line) =>
        (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) &&
        Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)),
    );
  return found ? Number(found.slice(found.lastIndexOf(' ') + 1)) : 0;
}

describe('dynamic batching and back-pressure', () => {
  it('concurrent requests share runs (batch size histogram above 1) and a full queue answers 503', async () => {
    const { body } = await upload(editor, linearModel([1, 2, 3], 0), {}, patient);
    // Loaded first, so all 30 requests arrive within one wait.
    expect((await predict(editor, body.model_id, [{ x: [0, 0, 1] }], patient)).body.predictions).toEqual([
      { y: [3] },
    ]);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => predict(editor, body.model_id, [{ x: [i, 0, 0] }], patient)),
    );
    const ok = answers.filter((answer) => answer.status === 200);
    const full = answers.filter((answer) => answer.status === 503);
    expect(ok.length + full.length).toBe(30);
    // Ten rows fit the queue; the other twenty are refused at once instead of waiting in memory.
    expect(ok.length).toBe(10);
    expect(full.length).toBe(20);
    expect(full[0]!.headers.get('retry-after')).toBe('1');
    // Each accepted request still got its own row's answer.
    for (const answer of ok) {
      const i = answers.indexOf(answer);
      expect(answer.body.predictions).toEqual([{ y: [i] }]);
    }
    const metrics = await (await fetch(`${patient.url}/metrics`)).text();
    const runs = metric(metrics, 'ai_inference_batch_rows_count');
    const singleRowRuns = metric(metrics, 'ai_inference_batch_rows_bucket', { le: '1' });
    expect(runs).toBeGreaterThan(0);
    expect(runs - singleRowRuns).toBeGreaterThan(0);
    expect(metric(metrics, 'ai_inference_rejected_total', { reason: 'queue_full' })).toBe(full.length);
    expect(metric(metrics, 'ai_model_cache_lookups_total', { result: 'miss' })).toBeGreaterThanOrEqual(1);
  });
});

describe('the model cache', () => {
  it('keeps models within its memory budget, evicting the least recently used, and still answers right', async () => {
    const ids: string[] = [];
    for (const weight of [1, 2, 3, 4])
      ids.push((await upload(editor, linearModel([weight], 0), {}, tiny)).body.model_id);
    for (let round = 0; round < 2; round++) {
      for (const [i, id] of ids.entries()) {
        const answer = await predict(editor, id, [{ x: [10] }], tiny);
        expect(answer.body.predictions).toEqual([{ y: [10 * (i + 1)] }]);
      }
    }
    const metrics = await (await fetch(`${tiny.url}/metrics`)).text();
    expect(metric(metrics, 'ai_model_cache_evictions_total')).toBeGreaterThanOrEqual(4);
    expect(metric(metrics, 'ai_model_cache_lookups_total', { result: 'miss' })).toBeGreaterThan(4);
    expect(metric(metrics, 'ai_model_load_duration_seconds_count', { kind: 'onnx' })).toBeGreaterThan(4);
  });
});
