import { latencyTable } from '../lib/report.ts';
import type { Measured } from '../lib/measure.ts';
import type { InProcessResult } from './in-process.ts';

export const TARGETS = { batchingSpeedup: 3, vsInProcess: 0.8 };

export interface Outcome {
  date: string;
  model: { width: number; hidden: number; layers: number; bytes: number; macsPerRow: number };
  load: { connections: number; threads: number; durationS: number; warmupS: number; rounds: number };
  rowsPerRequest: number;
  batching: { maxBatch: number; maxWaitMs: number; runConcurrency: number };
  on: Measured;
  off: Measured;
  /** Mean rows per runtime call on the batching side, from its own histogram. */
  meanBatchRows: number;
  batchHistogram: Record<string, number>;
  inProcess: InProcessResult;
  busyBefore: number;
}

export function verdict(outcome: Outcome) {
  const speedup = outcome.on.reqPerS / outcome.off.reqPerS;
  const vsInProcess = (outcome.on.reqPerS * outcome.rowsPerRequest) / outcome.inProcess.rowsPerS;
  return {
    ratios: { batching_on_vs_off: speedup, http_vs_in_process: vsInProcess },
    met: { batching: speedup >= TARGETS.batchingSpeedup, in_process: vsInProcess >= TARGETS.vsInProcess },
  };
}

export function markdownReport(outcome: Outcome): string {
  const { ratios, met } = verdict(outcome);
  const hist = Object.entries(outcome.batchHistogram)
    .map(([le, count]) => `≤${le}: ${count}`)
    .join(', ');
  return [
    '# ai bench: predictions through the gateway, batching on vs off, vs onnxruntime in-process',
    '',
    `${outcome.date}. Model: an MLP built by the bench (float32 x[N, ${outcome.model.width}] → ${outcome.model.layers} × ${outcome.model.hidden} ReLU → 1; ${outcome.model.macsPerRow.toLocaleString('en')} multiply-adds per row, ${(outcome.model.bytes / 1024).toFixed(0)} KiB). ` +
      `wrk: ${outcome.load.connections} connections, ${outcome.load.threads} threads, ${outcome.load.durationS} s after ${outcome.load.warmupS} s warm-up, best of ${outcome.load.rounds} rounds; ${outcome.rowsPerRequest === 1 ? 'one row' : `${outcome.rowsPerRequest} rows`} per request. ` +
      `Batching: AI_BATCH_MAX_SIZE=${outcome.batching.maxBatch}, AI_BATCH_MAX_WAIT_MS=${outcome.batching.maxWaitMs}, AI_RUN_CONCURRENCY=${outcome.batching.runConcurrency} (off: AI_BATCH_MAX_SIZE=1). ` +
      `Cores busy with other work before the run: ${outcome.busyBefore.toFixed(1)}.`,
    '',
    latencyTable([
      ['batching on', outcome.on],
      ['batching off', outcome.off],
    ]),
    '',
    `Rows per second through HTTP with batching: ${(outcome.on.reqPerS * outcome.rowsPerRequest).toFixed(0)}.`,
    '',
    `In-process peer: onnxruntime-node, same model, ${outcome.inProcess.batchRows} rows per run (the mean batch the server formed), ${outcome.inProcess.concurrency} runs in flight: ${outcome.inProcess.rowsPerS.toFixed(0)} rows/s (p95 run ${outcome.inProcess.p95RunMs.toFixed(2)} ms).`,
    '',
    `Batch sizes formed (runs per bucket, rows): ${hist}. Mean ${outcome.meanBatchRows.toFixed(1)} rows per run.`,
    '',
    '| ratio | value | target | met |',
    '|---|---:|---:|:---:|',
    `| batching on / off (req/s) | ${ratios.batching_on_vs_off.toFixed(2)}× | ≥ ${TARGETS.batchingSpeedup}× | ${met.batching ? 'yes' : 'no'} |`,
    `| HTTP with batching / in-process (rows/s) | ${ratios.http_vs_in_process.toFixed(2)}× | ≥ ${TARGETS.vsInProcess}× | ${met.in_process ? 'yes' : 'no'} |`,
    '',
    `p95 with batching ${outcome.on.p95Ms.toFixed(1)} ms vs ${outcome.off.p95Ms.toFixed(1)} ms without.`,
    '',
  ].join('\n');
}
