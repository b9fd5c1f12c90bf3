import * as ort from 'onnxruntime-node';
import { AppError } from '@datalab/platform';
import type { FieldSpec, IoSchema } from '../models/models.schemas.ts';
import type { LoadedModel, Prediction, Row } from './loaded-model.ts';
import { checkOnnxModel, type OnnxLimits } from './onnx-static-check.ts';

type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | BigInt64Array;

/** Element types a request can carry as JSON, with the typed array onnxruntime wants for each. */
const DTYPES: Record<string, (size: number) => NumericArray | Uint8Array> = {
  float32: (n) => new Float32Array(n),
  float64: (n) => new Float64Array(n),
  int8: (n) => new Int8Array(n),
  uint8: (n) => new Uint8Array(n),
  int16: (n) => new Int16Array(n),
  uint16: (n) => new Uint16Array(n),
  int32: (n) => new Int32Array(n),
  int64: (n) => new BigInt64Array(n),
  bool: (n) => new Uint8Array(n),
};

export function isSupportedDtype(dtype: string): boolean {
  return dtype in DTYPES;
}

/** Resident size of a session relative to its file: weights plus the runtime's own arenas. */
const MEMORY_FACTOR = 2;

export interface OnnxRuntimeOptions {
  /** `cuda` asks for the GPU; the session falls back to CPU when the runtime has no CUDA provider. */
  executionProvider: 'cpu' | 'cuda';
  limits: OnnxLimits;
  onFallback?: (reason: string) => void;
}

interface TensorInfo {
  name: string;
  dtype: string;
  dims: readonly (number | string)[];
}

function tensorInfo(metadata: ort.InferenceSession.ValueMetadata, what: string): TensorInfo {
  if (!metadata.isTensor) {
    throw new AppError(
      'invalid',
      `The model's ${what} "${metadata.name}" is not a tensor; only tensor inputs and outputs are served`,
      {
        errors: [{ field: 'file', message: `${what} ${metadata.name} is not a tensor` }],
      },
    );
  }
  return { name: metadata.name, dtype: metadata.type, dims: metadata.shape };
}

function fieldOf(info: TensorInfo): FieldSpec {
  return {
    name: info.name,
    type: 'tensor',
    dtype: info.dtype,
    shape: info.dims.slice(1).map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : null)),
    nullable: false,
  };
}

/**
 * Constant folding computes constant subgraphs while the session is created, up to 1 GiB per
 * node and with no total: a few ConstantOfShape nodes make loading take gigabytes. The static
 * check bounds what those nodes make when they run; folding them would only move the cost to
 * load time, once per node, before anyone asked for a prediction.
 */
const SESSION_OPTIONS = {
  extra: { optimization: { disable_specified_optimizers: 'ConstantFolding' } },
} satisfies ort.InferenceSession.SessionOptions;

async function createSession(
  bytes: Uint8Array,
  options: OnnxRuntimeOptions,
): Promise<{ session: ort.InferenceSession; provider: string }> {
  if (options.executionProvider === 'cuda') {
    try {
      return {
        session: await ort.InferenceSession.create(bytes, {
          ...SESSION_OPTIONS,
          executionProviders: ['cuda', 'cpu'],
        }),
        provider: 'cuda',
      };
    } catch (error) {
      options.onFallback?.(error instanceof Error ? error.message : String(error));
    }
  }
  return {
    session: await ort.InferenceSession.create(bytes, { ...SESSION_OPTIONS, executionProviders: ['cpu'] }),
    provider: 'cpu',
  };
}

/**
 * Loads the bytes as an ONNX model, once the static check has passed them (onnxruntime never sees
 * a model that names files on the server); anything onnxruntime refuses is the caller's bad file (400).
 */
export async function loadOnnxModel(
  bytes: Uint8Array,
  options: OnnxRuntimeOptions,
): Promise<LoadedModel & { outputSchema: IoSchema }> {
  checkOnnxModel(bytes, options.limits);
  let created: { session: ort.InferenceSession; provider: string };
  try {
    created = await createSession(bytes, options);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AppError('invalid', `The file is not a model onnxruntime can load: ${reason}`, {
      errors: [{ field: 'file', message: 'is not a loadable ONNX model' }],
    });
  }
  const { session, provider } = created;
  try {
    const inputs = session.inputMetadata.map((meta) => tensorInfo(meta, 'input'));
    const outputs = session.outputMetadata.map((meta) => tensorInfo(meta, 'output'));
    for (const input of inputs) {
      if (!isSupportedDtype(input.dtype))
        throw new AppError(
          'invalid',
          `Input "${input.name}" has element type ${input.dtype}, which JSON rows cannot carry`,
          {
            errors: [{ field: 'file', message: `input ${input.name}: unsupported type ${input.dtype}` }],
          },
        );
      if (input.dims.length === 0)
        throw new AppError('invalid', `Input "${input.name}" has no batch dimension`, {
          errors: [{ field: 'file', message: `input ${input.name}: a scalar, with no batch dimension` }],
        });
    }
    const fixedBatch = inputs
      .map((input) => input.dims[0])
      .filter((dim): dim is number => typeof dim === 'number' && dim > 0);
    const inputSchema: IoSchema = { fields: inputs.map(fieldOf) };
    return {
      inputSchema,
      outputSchema: { fields: outputs.map(fieldOf) },
      maxRowsPerRun: fixedBatch.length > 0 ? Math.min(...fixedBatch) : Infinity,
      batchable: inputSchema.fields.every((field) => field.shape?.every((dim) => dim !== null)),
      bytes: bytes.byteLength * MEMORY_FACTOR,
      provider,
      run: (rows) => runOnnx(session, inputs, outputs, rows),
      release: () => session.release(),
    };
  } catch (error) {
    await session.release();
    throw error;
  }
}

function shapeOf(value: unknown): number[] {
  const dims: number[] = [];
  let current = value;
  while (Array.isArray(current)) {
    dims.push(current.length);
    current = current[0];
  }
  return dims;
}

function fill(target: NumericArray | Uint8Array, offset: number, value: unknown): number {
  if (Array.isArray(value)) {
    let at = offset;
    for (const item of value) at = fill(target, at, item);
    return at;
  }
  if (target instanceof BigInt64Array) target[offset] = BigInt(value as number);
  else target[offset] = typeof value === 'boolean' ? Number(value) : (value as number);
  return offset + 1;
}

function toPlain(value: number | bigint | boolean | string): number | boolean | string {
  return typeof value === 'bigint' ? Number(value) : value;
}

/** A flat run of values back into nested arrays of `dims`. */
function nest(
  data: ArrayLike<number | bigint | boolean | string>,
  start: number,
  dims: readonly number[],
): unknown {
  if (dims.length === 0) return toPlain(data[start]!);
  const [first, ...rest] = dims;
  const stride = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: first! }, (_, i) => nest(data, start + i * stride, rest));
}

async function runOnnx(
  session: ort.InferenceSession,
  inputs: readonly TensorInfo[],
  outputs: readonly TensorInfo[],
  rows: readonly Row[],
): Promise<Prediction[]> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of inputs) {
    const rowDims = shapeOf(rows[0]![input.name]);
    const perRow = rowDims.reduce((a, b) => a * b, 1);
    const data = DTYPES[input.dtype]!(perRow * rows.length);
    rows.forEach((row, i) => fill(data, i * perRow, row[input.name]));
    feeds[input.name] = new ort.Tensor(input.dtype as 'float32', data as Float32Array, [
      rows.length,
      ...rowDims,
    ]);
  }
  const results = await session.run(feeds).catch((error: unknown) => {
    // The runtime refuses what these rows make the model do (an allocation sized by an input, a
    // shape it cannot broadcast): the caller's rows and model, not the server, are at fault.
    const reason = error instanceof Error ? error.message : String(error);
    throw new AppError('invalid', `The model failed on these rows: ${reason}`, {
      errors: [{ field: '/body/rows', message: 'the model failed on them' }],
    });
  });
  const predictions: Prediction[] = rows.map(() => ({}));
  for (const output of outputs) {
    const tensor = results[output.name];
    if (!tensor) continue;
    const [batch, ...rowDims] = tensor.dims;
    if (batch !== rows.length)
      throw new Error(`output ${output.name} has batch size ${batch}, expected ${rows.length}`);
    const perRow = rowDims.reduce((a, b) => a * b, 1);
    const data = tensor.data as ArrayLike<number | bigint | boolean | string>;
    predictions.forEach((prediction, i) => (prediction[output.name] = nest(data, i * perRow, rowDims)));
  }
  return predictions;
}
