import type { IoSchema } from '../models/models.schemas.ts';

/** One row as the caller sent it, already checked against the model's input schema. */
export type Row = Record<string, unknown>;
/** What one row gets back. */
export type Prediction = Record<string, unknown>;

/** A model in memory, ready to run; both ONNX and built-in models look like this to the batcher. */
export interface LoadedModel {
  inputSchema: IoSchema;
  /** Most rows one run may take (a fixed batch dimension limits it); Infinity when free. */
  maxRowsPerRun: number;
  /** False when requests cannot share a run (inputs with free non-batch dimensions). */
  batchable: boolean;
  /** Estimated resident size, counted against the model cache's budget. */
  bytes: number;
  /** Which runtime ran it (`cpu`, `cuda`, `js`), for the answer and metrics. */
  provider: string;
  run: (rows: readonly Row[]) => Promise<Prediction[]>;
  release: () => Promise<void>;
}
