import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { mlpModel } from '../../services/ai/src/inference/onnx.test-fixtures.ts';
import type { BenchContext } from '../lib/bench.ts';
import { busyCores } from '../lib/cpu.ts';
import { measure, type Measured } from '../lib/measure.ts';
import { createCleanup } from '../lib/processes.ts';
import { codeVersion, machine, writeResults } from '../lib/report.ts';
import { wrkVersion } from '../lib/wrk.ts';
import { measureInProcess } from './in-process.ts';
import { markdownReport, TARGETS, verdict, type Outcome } from './report.ts';
import { startStack, type Stack } from './stack.ts';

export const description =
  'Predictions (one row per request by default, --rows N) on a small ONNX model through gateway → ai-service, batching on vs off, vs onnxruntime in-process.';

function parseOptions(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '5' },
      threads: { type: 'string', default: '2' },
      connections: { type: 'string', default: '64' },
      rounds: { type: 'string', default: '2' },
      width: { type: 'string', default: '32' },
      hidden: { type: 'string', default: '2048' },
      layers: { type: 'string', default: '1' },
      results: { type: 'string', default: 'ai' },
      'max-batch': { type: 'string', default: '64' },
      'max-wait-ms': { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '2' },
      'base-port': { type: 'string', default: '44100' },
      rows: { type: 'string', default: '1' },
    },
  });
  const number = (name: keyof typeof values) => Number(values[name]);
  return {
    load: {
      durationS: number('duration'),
      warmupS: number('warmup'),
      threads: number('threads'),
      connections: number('connections'),
      rounds: number('rounds'),
    },
    model: { width: number('width'), hidden: number('hidden'), layers: number('layers') },
    results: values.results,
    batching: {
      maxBatch: number('max-batch'),
      maxWaitMs: number('max-wait-ms'),
      runConcurrency: number('concurrency'),
    },
    basePort: number('base-port'),
    rowsPerRequest: number('rows'),
  };
}

async function uploadModel(stack: Stack, bytes: Uint8Array): Promise<string> {
  const form = new FormData();
  form.append('name', 'bench-mlp');
  form.append('file', new Blob([bytes]), 'mlp.onnx');
  const response = await fetch(`${stack.on.gatewayUrl}/api/v1/ai/models/onnx`, {
    method: 'POST',
    headers: stack.auth,
    body: form,
  });
  if (response.status !== 201) throw new Error(`upload: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { model_id: string }).model_id;
}

async function predictOnce(url: string, headers: Record<string, string>, body: string): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body,
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`predict: ${response.status} ${text}`);
  return JSON.stringify((JSON.parse(text) as { predictions: unknown }).predictions);
}

/** The batch-size histogram of an ai-service: cumulative buckets turned into runs per bucket. */
async function batchHistogram(aiUrl: string): Promise<{ mean: number; buckets: Record<string, number> }> {
  const text = await (await fetch(`${aiUrl}/metrics`)).text();
  const value = (prefix: string) =>
    Number(
      text
        .split('\n')
        .find((line) => line.startsWith(prefix))
        ?.split(' ')
        .pop() ?? 0,
    );
  const cumulative = text
    .split('\n')
    .filter((line) => line.startsWith('ai_inference_batch_rows_bucket'))
    .map((line) => [/le="([^"]+)"/.exec(line)?.[1] ?? '', Number(line.split(' ').pop())] as const);
  const buckets: Record<string, number> = {};
  let previous = 0;
  for (const [le, count] of cumulative) {
    if (count > previous) buckets[le] = count - previous;
    previous = count;
  }
  return { mean: value('ai_inference_batch_rows_sum') / value('ai_inference_batch_rows_count'), buckets };
}

const best = (results: Measured[]): Measured =>
  results.reduce((top, r) => (r.reqPerS > top.reqPerS ? r : top));
const print = (label: string, r: Measured) =>
  console.log(
    `  ${label}: ${r.reqPerS.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p95 ${r.p95Ms.toFixed(2)} ms`,
  );

export async function run({ args, env }: BenchContext): Promise<void> {
  const options = parseOptions(args);
  const cleanup = createCleanup();
  try {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'datalab-bench-ai-'));
    cleanup.add(() => rm(dir, { recursive: true, force: true }));
    const busy = await busyCores();
    if (busy > 0.2) console.warn(`Warning: ${busy.toFixed(1)} cores are busy before the bench starts.`);
    console.log('Starting two api-gateway → ai-service paths (batching on, off)…');
    const stack = await startStack(
      {
        postgresUrl: env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
        dataDir: path.join(dir, 'data'),
        basePort: options.basePort,
        ...options.batching,
      },
      cleanup,
    );
    const model = mlpModel(options.model.width, options.model.hidden, options.model.layers);
    const modelId = await uploadModel(stack, model);
    const body = JSON.stringify({
      rows: Array.from({ length: options.rowsPerRequest }, (_, row) => ({
        x: Array.from({ length: options.model.width }, (_, i) => ((i + row) % 17) / 17),
      })),
    });
    const path_ = `/api/v1/ai/models/${modelId}/predict`;
    const answers = [
      await predictOnce(`${stack.on.gatewayUrl}${path_}`, stack.auth, body),
      await predictOnce(`${stack.off.gatewayUrl}${path_}`, stack.auth, body),
    ];
    if (answers[0] !== answers[1])
      throw new Error(`the two paths answer differently: ${answers.join(' vs ')}`);

    const runs: { on: Measured[]; off: Measured[] } = { on: [], off: [] };
    const load = {
      ...options.load,
      headers: { ...stack.auth, 'content-type': 'application/json' },
      jsonBody: body,
    };
    for (let round = 1; round <= options.load.rounds; round += 1) {
      console.log(`Round ${round}/${options.load.rounds}`);
      for (const side of ['on', 'off'] as const) {
        const { gateway, ai } = stack[side].processes;
        const result = await measure(`${stack[side].gatewayUrl}${path_}`, load, {
          gateway: gateway.child.pid,
          ai: ai.child.pid,
        });
        print(`batching ${side}`, result);
        runs[side].push(result);
      }
    }
    const histogram = await batchHistogram(stack.on.aiUrl);
    const batchRows = Math.max(1, Math.round(histogram.mean));
    console.log(`In-process onnxruntime, ${batchRows} rows per run…`);
    const inProcess = await measureInProcess(
      model,
      options.model.width,
      batchRows,
      options.batching.runConcurrency,
      options.load.durationS,
    );

    const host = machine();
    const outcome: Outcome = {
      date: new Date().toISOString(),
      model: {
        ...options.model,
        bytes: model.byteLength,
        macsPerRow:
          options.model.width * options.model.hidden +
          (options.model.layers - 1) * options.model.hidden ** 2 +
          options.model.hidden,
      },
      load: options.load,
      rowsPerRequest: options.rowsPerRequest,
      batching: options.batching,
      on: best(runs.on),
      off: best(runs.off),
      meanBatchRows: histogram.mean,
      batchHistogram: histogram.buckets,
      inProcess,
      busyBefore: busy,
    };
    const markdown = markdownReport(outcome);
    const files = await writeResults(
      options.results,
      {
        bench: 'ai',
        date: outcome.date,
        code: await codeVersion(),
        machine: { ...host, wrk: await wrkVersion() },
        config: {
          ...options,
          bestOf: 'each side’s round with the most req/s',
          path: 'wrk → datalab serve api-gateway → datalab serve ai-service',
        },
        runs,
        outcome,
        ...verdict(outcome),
        targets: TARGETS,
      },
      markdown,
    );
    console.log(
      `\n${markdown}\nWritten: ${files.map((file) => path.relative(process.cwd(), file)).join(', ')}`,
    );
  } finally {
    await cleanup.close();
  }
}
