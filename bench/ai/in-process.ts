import * as ort from 'onnxruntime-node';

export interface InProcessResult {
  batchRows: number;
  concurrency: number;
  rowsPerS: number;
  runs: number;
  p95RunMs: number;
}

/**
 * The peer: onnxruntime-node called directly in this process, the same model
 * and batch size the server ran, `concurrency` runs in flight like the server's
 * AI_RUN_CONCURRENCY, for `durationS` seconds. No HTTP, JSON or queueing.
 */
export async function measureInProcess(
  model: Uint8Array,
  width: number,
  batchRows: number,
  concurrency: number,
  durationS: number,
): Promise<InProcessResult> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
  try {
    const data = Float32Array.from({ length: batchRows * width }, (_, i) => (i % 17) / 17);
    const feeds = { x: new ort.Tensor('float32', data, [batchRows, width]) };
    await session.run(feeds);
    const times: number[] = [];
    const deadline = performance.now() + durationS * 1000;
    const loop = async () => {
      while (performance.now() < deadline) {
        const start = performance.now();
        await session.run(feeds);
        times.push(performance.now() - start);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, loop));
    const elapsedS = (performance.now() - started) / 1000;
    times.sort((a, b) => a - b);
    return {
      batchRows,
      concurrency,
      rowsPerS: (times.length * batchRows) / elapsedS,
      runs: times.length,
      p95RunMs: times[Math.floor(times.length * 0.95)] ?? 0,
    };
  } finally {
    await session.release();
  }
}
