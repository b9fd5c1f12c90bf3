/**
 * A tiny ONNX encoder for hostile models: protobuf written by hand from onnx/onnx.proto's field
 * numbers, so a test can put anything anywhere (external data in a subgraph, a truncated message,
 * absurd dims) without a library that would refuse to write it.
 */

/** A message as [field number, value] pairs: numbers are varints, strings and bytes length-delimited. */
export type Message = [number, number | bigint | string | Uint8Array | Message][];

function varint(value: bigint): number[] {
  let rest = BigInt.asUintN(64, value);
  const out: number[] = [];
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return out;
}

export function encode(message: Message): Uint8Array {
  const parts: number[] = [];
  for (const [field, value] of message) {
    if (typeof value === 'number' || typeof value === 'bigint') {
      parts.push(...varint(BigInt(field) << 3n), ...varint(BigInt(value)));
      continue;
    }
    const bytes =
      typeof value === 'string'
        ? new TextEncoder().encode(value)
        : value instanceof Uint8Array
          ? value
          : encode(value);
    parts.push(...varint((BigInt(field) << 3n) | 2n), ...varint(BigInt(bytes.length)));
    for (const byte of bytes) parts.push(byte);
  }
  return Uint8Array.from(parts);
}

export const FLOAT = 1;
export const UINT8 = 2;
export const INT64 = 7;

export interface TensorOptions {
  name: string;
  dims: (number | bigint)[];
  type: number;
  int64s?: (number | bigint)[];
  floats?: number[];
  /** Where the data "lives" outside the file: makes the tensor refer to external data. */
  external?: string;
}

export function tensor(options: TensorOptions): Message {
  const message: Message = [
    [8, options.name],
    [2, options.type],
  ];
  for (const dim of options.dims) message.push([1, dim]);
  for (const value of options.int64s ?? []) message.push([7, value]);
  if (options.floats) {
    const raw = new Uint8Array(new Float32Array(options.floats).buffer);
    message.push([9, raw]);
  }
  if (options.external !== undefined) {
    message.push([
      13,
      [
        [1, 'location'],
        [2, options.external],
      ],
    ]);
    message.push([14, 1]);
  }
  return message;
}

/** An attribute: a tensor (`t`), a graph (`g`), an int (`i`) or ints. */
export function attribute(
  name: string,
  value: { t?: Message; g?: Message; i?: number; ints?: number[] },
): Message {
  const message: Message = [[1, name]];
  if (value.t) message.push([5, value.t], [20, 4]);
  if (value.g) message.push([6, value.g], [20, 5]);
  if (value.i !== undefined) message.push([3, value.i], [20, 2]);
  if (value.ints) message.push(...value.ints.map((i): Message[number] => [8, i]), [20, 7]);
  return message;
}

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: Message[] = [],
): Message {
  return [
    ...inputs.map((input): Message[number] => [1, input]),
    ...outputs.map((output): Message[number] => [2, output]),
    [4, opType],
    ...attributes.map((attr): Message[number] => [5, attr]),
  ];
}

/** A tensor input or output: `dims` numbers are fixed, strings are named (batch) dimensions. */
export function valueInfo(name: string, type: number, dims: (number | string)[]): Message {
  const dim = dims.map((d): Message[number] => [1, typeof d === 'number' ? [[1, d]] : [[2, d]]]);
  return [
    [1, name],
    [
      2,
      [
        [
          1,
          [
            [1, type],
            [2, dim],
          ],
        ],
      ],
    ],
  ];
}

export interface GraphOptions {
  nodes: Message[];
  initializers?: Message[];
  /** Sparse initializers as [values, indices] tensors. */
  sparse?: [Message, Message][];
  inputs: Message[];
  outputs: Message[];
}

export function graph(options: GraphOptions): Message {
  return [
    ...options.nodes.map((n): Message[number] => [1, n]),
    [2, 'hostile'],
    ...(options.initializers ?? []).map((t): Message[number] => [5, t]),
    ...(options.sparse ?? []).map(([values, indices]): Message[number] => [
      15,
      [
        [1, values],
        [2, indices],
        [3, 4],
      ],
    ]),
    ...options.inputs.map((i): Message[number] => [11, i]),
    ...options.outputs.map((o): Message[number] => [12, o]),
  ];
}

export function model(body: Message, opset = 13): Uint8Array {
  return encode([
    [1, 8],
    [2, 'datalab-security-tests'],
    [
      8,
      [
        [1, ''],
        [2, opset],
      ],
    ],
    [7, body],
  ]);
}

/**
 * y = float(K) · x for a uint8 initializer K of `length` bytes: with K stored "externally" at
 * `location`, the prediction for x = 1 is the bytes of that file, one number per byte.
 */
export function fileReadingModel(location: string, length: number): Uint8Array {
  return model(
    graph({
      nodes: [node('Cast', ['K'], ['Kf'], [attribute('to', { i: FLOAT })]), node('Mul', ['Kf', 'x'], ['y'])],
      initializers: [tensor({ name: 'K', dims: [1, length], type: UINT8, external: location })],
      inputs: [valueInfo('x', FLOAT, ['N', 1])],
      outputs: [valueInfo('y', FLOAT, ['N', length])],
    }),
  );
}

/** y = x + 1: an ordinary model, to show uploads still work. */
export function plusOneModel(): Uint8Array {
  return model(
    graph({
      nodes: [node('Add', ['x', 'one'], ['y'])],
      initializers: [tensor({ name: 'one', dims: [1], type: FLOAT, floats: [1] })],
      inputs: [valueInfo('x', FLOAT, ['N', 1])],
      outputs: [valueInfo('y', FLOAT, ['N', 1])],
    }),
  );
}
