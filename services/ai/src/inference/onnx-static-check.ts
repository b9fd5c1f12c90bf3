import { AppError } from '@datalab/platform';
import {
  allocation,
  emptyScope,
  innerScope,
  product,
  propagate,
  remember,
  type Scope,
  type ShapedNode,
  type Tensor,
} from './onnx-constant-shapes.ts';
import {
  markOutputs,
  markRequestInputs,
  refuseSizeFromInput,
  takesInputValues,
} from './onnx-input-values.ts';
import { int64Values, integer, text, wireFields, WireFormatError, type WireValue } from './protobuf-wire.ts';

/**
 * Reads an uploaded ONNX file before onnxruntime does, and refuses what onnxruntime would act on
 * to the server's harm:
 * - a tensor whose data lives "outside" the file: onnxruntime reads any path it names, relative to
 *   the process's working directory, so a model could return the server's signing key;
 * - a tensor, or an allocating operator with constant shapes, bigger than the tensor budget:
 *   onnxruntime allocates it whole when it loads or runs the model;
 * - an allocating operator sized by the values of the model's inputs: a request could ask for
 *   more memory than the server has.
 * Every place a tensor can hide is visited: graph and subgraph initializers (subgraphs are If,
 * Loop and Scan attributes), sparse initializers, tensor attributes (Constant's `value`), training
 * graphs and functions. Field numbers are those of onnx/onnx.proto.
 */

export interface OnnxLimits {
  /** AI_ONNX_MAX_TENSOR_BYTES */
  maxTensorBytes: number;
}

/** If inside Loop inside Scan…: real models nest a few levels; the walk must not recurse without end. */
export const MAX_GRAPH_DEPTH = 16;

/** Bytes per element of TensorProto.DataType; strings and 4-bit types count one byte. */
const ELEMENT_BYTES: Record<number, bigint> = {
  1: 4n,
  2: 1n,
  3: 1n,
  4: 2n,
  5: 2n,
  6: 4n,
  7: 8n,
  8: 1n,
  9: 1n,
  10: 2n,
  11: 8n,
  12: 4n,
  13: 8n,
  14: 8n,
  15: 16n,
  16: 2n,
};
const INT64 = 7;
/** Constant int64 tensors this small are decoded: shapes, repeats and Range bounds. */
const MAX_DECODED_VALUES = 64;
/** Worst case for operators whose output type the walk does not follow. */
const ASSUMED_ELEMENT_BYTES = 8n;

function notOnnx(reason: string, place: string): AppError {
  return new AppError('invalid', `The file is not an ONNX model: ${reason} (at ${place})`, {
    errors: [{ field: 'file', message: 'is not a loadable ONNX model' }],
  });
}

function tooLarge(what: string, bytes: bigint, place: string, limits: OnnxLimits): AppError {
  return new AppError(
    'too_large',
    `${what} at ${place} takes ${bytes} bytes, more than the ${limits.maxTensorBytes} bytes one tensor may take (AI_ONNX_MAX_TENSOR_BYTES)`,
    {
      errors: [{ field: 'file', message: `${place}: ${bytes} bytes, over AI_ONNX_MAX_TENSOR_BYTES` }],
      extensions: { limit: 'AI_ONNX_MAX_TENSOR_BYTES', limit_bytes: limits.maxTensorBytes },
    },
  );
}

/** The fields of a nested message; a broken encoding is reported at the place it is found. */
function* fields(value: WireValue, place: string) {
  if (value.wire !== 'bytes') throw notOnnx('a message field holds a number', place);
  try {
    yield* wireFields(value.value);
  } catch (error) {
    if (error instanceof WireFormatError) throw notOnnx(error.message, place);
    throw error;
  }
}

function decodeInt64s(raw: Uint8Array | undefined, listed: bigint[], count: bigint): bigint[] | undefined {
  if (count > BigInt(MAX_DECODED_VALUES)) return undefined;
  if (listed.length > 0) return listed;
  if (!raw || BigInt(raw.length) !== count * 8n) return undefined;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
  return Array.from({ length: Number(count) }, (_, i) => view.getBigInt64(i * 8, true));
}

function walkTensor(value: WireValue, place: string, limits: OnnxLimits): Tensor {
  let name = '';
  let dataType = 0;
  const dims: bigint[] = [];
  const int64s: bigint[] = [];
  let raw: Uint8Array | undefined;
  let external = false;
  let location = '';
  for (const { number, field } of fields(value, place)) {
    if (number === 1) dims.push(...int64Values(field));
    else if (number === 2) dataType = Number(integer(field));
    else if (number === 7) int64s.push(...int64Values(field));
    else if (number === 8) name = text(field);
    else if (number === 9 && field.wire === 'bytes') raw = field.value;
    else if (number === 14) external ||= integer(field) === 1n;
    else if (number === 13) {
      external = true;
      for (const entry of fields(field, place))
        if (entry.number === 2 && !location) location = text(entry.field);
    }
  }
  const where = `${place}${name ? ` "${name}"` : ''}`;
  if (external) {
    throw new AppError(
      'invalid',
      `Tensor ${where} keeps its data outside the model file${location ? ` (in "${location}")` : ''}; a model must carry all its data inside the .onnx file, so save it without external data`,
      { errors: [{ field: 'file', message: `${where}: refers to external data` }] },
    );
  }
  if (dims.some((dim) => dim < 0n)) throw notOnnx(`tensor ${where} has a negative dimension`, place);
  const count = product(dims);
  const bytes = count * (ELEMENT_BYTES[dataType] ?? 1n);
  if (bytes > BigInt(limits.maxTensorBytes)) throw tooLarge(`Tensor ${where}`, bytes, place, limits);
  const values = dataType === INT64 ? decodeInt64s(raw, int64s, count) : undefined;
  return { name, count, ...(values ? { values } : {}) };
}

function walkSparseTensor(value: WireValue, place: string, limits: OnnxLimits): void {
  for (const { number, field } of fields(value, place)) {
    if (number === 1) walkTensor(field, `${place}.values`, limits);
    else if (number === 2) walkTensor(field, `${place}.indices`, limits);
  }
}

function walkAttribute(value: WireValue, place: string, limits: OnnxLimits) {
  let name = '';
  const ints: bigint[] = [];
  let single: bigint | undefined;
  let tensor: Tensor | undefined;
  const nested: { number: number; field: WireValue }[] = [];
  const subgraphs: ShapedNode['subgraphs'] = [];
  for (const entry of fields(value, place)) {
    if (entry.number === 1) name = text(entry.field);
    else if (entry.number === 3) single = integer(entry.field);
    else if (entry.number === 8) ints.push(...int64Values(entry.field));
    else nested.push(entry);
  }
  const at = `${place}.attribute "${name}"`;
  for (const { number, field } of nested) {
    if (number === 5) tensor = walkTensor(field, `${at}.t`, limits);
    else if (number === 10) walkTensor(field, `${at}.tensors`, limits);
    else if (number === 22 || number === 23) walkSparseTensor(field, `${at}.sparse_tensor`, limits);
    else if (number === 6 || number === 11) subgraphs.push({ graph: field, place: `${at}.g` });
  }
  return { name, ints, single, tensor, subgraphs };
}

function walkNode(value: WireValue, place: string, limits: OnnxLimits): ShapedNode {
  const node: ShapedNode = { opType: '', inputs: [], outputs: [], place, subgraphs: [] };
  const attributes: WireValue[] = [];
  for (const { number, field } of fields(value, place)) {
    if (number === 1) node.inputs.push(text(field));
    else if (number === 2) node.outputs.push(text(field));
    else if (number === 4) node.opType = text(field);
    else if (number === 5) attributes.push(field);
  }
  node.place = `${place} (${node.opType || 'no op_type'})`;
  for (const attribute of attributes) {
    const { name, ints, single, tensor, subgraphs } = walkAttribute(attribute, node.place, limits);
    node.subgraphs.push(...subgraphs);
    if (name === 'shape' && node.opType.startsWith('Random')) node.shapeAttribute = ints;
    if (node.opType !== 'Constant') continue;
    if (name === 'value' && tensor) node.constant = tensor;
    else if (name === 'value_ints') node.constant = { name: '', count: BigInt(ints.length), values: ints };
    else if (name === 'value_int' && single !== undefined)
      node.constant = { name: '', count: 1n, values: [single] };
  }
  return node;
}

/** The name of a graph's input or output (ValueInfoProto's `name`). */
function valueInfoName(value: WireValue, place: string): string {
  for (const { number, field } of fields(value, place)) if (number === 1) return text(field);
  return '';
}

/**
 * Walks a graph's nodes in order (ONNX requires them sorted), subgraphs included, refusing an
 * allocation that is too big or sized by input values. `inputsFromRequest`: whether the graph's
 * inputs hold a request's values (a subgraph's do when its node takes any).
 * Returns whether any of the graph's outputs holds values computed from a request's.
 */
function walkGraph(
  value: WireValue,
  place: string,
  depth: number,
  outer: Scope,
  limits: OnnxLimits,
  inputsFromRequest: boolean,
): boolean {
  if (depth > MAX_GRAPH_DEPTH)
    throw new AppError(
      'invalid',
      `Subgraphs nest deeper than ${MAX_GRAPH_DEPTH} levels at ${place}; the model is refused`,
      { errors: [{ field: 'file', message: `${place}: subgraphs nested over ${MAX_GRAPH_DEPTH} deep` }] },
    );
  const scope = innerScope(outer);
  const nodes: ShapedNode[] = [];
  const initializers = new Set<string>();
  let initializer = 0;
  const inputs: string[] = [];
  const outputs: string[] = [];
  let sparse = 0;
  for (const { number, field } of fields(value, place)) {
    if (number === 5) {
      const tensor = walkTensor(field, `${place}.initializer[${initializer++}]`, limits);
      initializers.add(tensor.name);
      remember(scope, tensor, tensor.name);
    } else if (number === 15) walkSparseTensor(field, `${place}.sparse_initializer[${sparse++}]`, limits);
    else if (number === 1) nodes.push(walkNode(field, `${place}.node[${nodes.length}]`, limits));
    else if (number === 11) inputs.push(valueInfoName(field, `${place}.input[${inputs.length}]`));
    else if (number === 12) outputs.push(valueInfoName(field, `${place}.output[${outputs.length}]`));
  }
  if (inputsFromRequest) markRequestInputs(scope, inputs, initializers);
  walkNodes(nodes, depth, scope, limits);
  return outputs.some((output) => scope.fromInput.has(output));
}

function walkNodes(nodes: ShapedNode[], depth: number, scope: Scope, limits: OnnxLimits): void {
  for (const node of nodes) {
    const fromRequest = takesInputValues(node, scope);
    let returnsRequestValues = false;
    for (const subgraph of node.subgraphs)
      returnsRequestValues =
        walkGraph(subgraph.graph, subgraph.place, depth + 1, scope, limits, fromRequest) ||
        returnsRequestValues;
    refuseSizeFromInput(node, scope);
    const count = allocation(node, scope);
    if (count === 'unknown')
      throw new AppError(
        'invalid',
        `The size of ${node.opType} at ${node.place} is computed from constants in a way the upload check cannot follow; fold the model's constants before uploading it (onnxsim, or onnxruntime's offline optimization)`,
        { errors: [{ field: 'file', message: `${node.place}: size cannot be bounded` }] },
      );
    if (count !== undefined && count * ASSUMED_ELEMENT_BYTES > BigInt(limits.maxTensorBytes))
      throw tooLarge(`The output of ${node.opType}`, count * ASSUMED_ELEMENT_BYTES, node.place, limits);
    propagate(node, scope);
    markOutputs(node, scope, returnsRequestValues);
    if (count !== undefined && node.outputs[0]) scope.counts.set(node.outputs[0], count);
  }
}

/** A model-local function may be called with anything, so its inputs count as a request's values. */
function walkFunction(value: WireValue, place: string, limits: OnnxLimits): void {
  const scope = emptyScope();
  const nodes: ShapedNode[] = [];
  for (const { number, field } of fields(value, place)) {
    if (number === 4) scope.fromInput.add(text(field));
    else if (number === 7) nodes.push(walkNode(field, `${place}.node[${nodes.length}]`, limits));
  }
  walkNodes(nodes, 1, scope, limits);
}

/** Throws a 400/413 AppError naming the tensor or operator at fault; returns when onnxruntime may load the bytes. */
export function checkOnnxModel(bytes: Uint8Array, limits: OnnxLimits): void {
  const empty = emptyScope();
  let trainings = 0;
  let functions = 0;
  for (const { number, field } of fields({ wire: 'bytes', value: bytes }, 'the model')) {
    if (number === 7) walkGraph(field, 'graph', 1, empty, limits, true);
    else if (number === 20) {
      const place = `training_info[${trainings++}]`;
      for (const entry of fields(field, place))
        if (entry.number === 1 || entry.number === 2)
          walkGraph(
            entry.field,
            `${place}.${entry.number === 1 ? 'initialization' : 'algorithm'}`,
            1,
            empty,
            limits,
            true,
          );
    } else if (number === 25) walkFunction(field, `functions[${functions++}]`, limits);
  }
}
