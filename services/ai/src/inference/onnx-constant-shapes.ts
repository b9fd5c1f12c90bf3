import type { WireValue } from './protobuf-wire.ts';

/**
 * What the static check knows of a graph's constant int64 tensors (shapes, repeats, Range bounds),
 * followed through the operators that pass values on unchanged, so an allocating operator's size
 * can be counted before onnxruntime runs it. A size computed only from constants in a way this
 * does not follow cannot be bounded, and is reported as such: otherwise a Mul of two constants
 * would hide a shape of 10^12.
 */

export interface Tensor {
  name: string;
  count: bigint;
  values?: bigint[];
}

export interface Scope {
  /** Known int64 values, by tensor name. */
  values: Map<string, bigint[]>;
  /** Known element counts, by tensor name. */
  counts: Map<string, bigint>;
  /** Tensors computed from constants only (no graph input upstream), whether or not their values are known. */
  constant: Set<string>;
  /** Tensors computed from the values of a graph input (see onnx-input-values.ts). */
  fromInput: Set<string>;
}

export interface ShapedNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  place: string;
  /** What a Constant node produces, when it is a small int64 tensor or list. */
  constant?: Tensor;
  /** The `shape` attribute of RandomNormal and RandomUniform. */
  shapeAttribute?: bigint[];
  /** If/Loop/Scan bodies, walked when the node is reached so they see what the graph computed before it. */
  subgraphs: { graph: WireValue; place: string }[];
}

export function emptyScope(): Scope {
  return { values: new Map(), counts: new Map(), constant: new Set(), fromInput: new Set() };
}

/** A subgraph sees the constants of the graphs around it. */
export function innerScope(outer: Scope): Scope {
  return {
    values: new Map(outer.values),
    counts: new Map(outer.counts),
    constant: new Set(outer.constant),
    fromInput: new Set(outer.fromInput),
  };
}

export function product(values: readonly bigint[]): bigint {
  return values.reduce((a, b) => a * (b < 0n ? 0n : b), 1n);
}

export function remember(scope: Scope, tensor: Tensor, name: string): void {
  scope.constant.add(name);
  scope.counts.set(name, tensor.count);
  if (tensor.values) scope.values.set(name, tensor.values);
}

/** Operators whose output holds the values of their first input, reshaped or retyped. */
const PASS_THROUGH = new Set(['Identity', 'Cast', 'Reshape', 'Squeeze', 'Unsqueeze', 'Flatten']);
/** Operators that allocate a tensor shaped by an input (the index of that input). */
const SHAPED_BY_INPUT: Record<string, number> = { ConstantOfShape: 0, Expand: 1, Tile: 1 };
const SHAPED_BY_ATTRIBUTE = new Set(['RandomNormal', 'RandomUniform']);

/** Records what `node` makes that later nodes may use as constants. */
export function propagate(node: ShapedNode, scope: Scope): void {
  const [output] = node.outputs;
  if (!output) return;
  if (node.constant) return remember(scope, node.constant, output);
  const inputs = node.inputs.filter((input) => input !== '');
  if (inputs.length === 0 || !inputs.every((input) => scope.constant.has(input))) return;
  scope.constant.add(output);
  const known = inputs.map((input) => scope.values.get(input));
  const values =
    PASS_THROUGH.has(node.opType) && known[0]
      ? known[0]
      : node.opType === 'Concat' && known.every((value) => value !== undefined)
        ? known.flat()
        : undefined;
  if (values) remember(scope, { name: output, count: BigInt(values.length), values }, output);
}

/**
 * The elements `node` allocates: a count when its sizes are known, `unknown` when they come from
 * constants the walk could not follow, `undefined` when it allocates nothing sized by a constant
 * (or its size depends on the request, bounded by the request's own size).
 */
export function allocation(node: ShapedNode, scope: Scope): bigint | 'unknown' | undefined {
  if (SHAPED_BY_ATTRIBUTE.has(node.opType) && node.shapeAttribute) return product(node.shapeAttribute);
  const sized =
    node.opType === 'Range' ? node.inputs.slice(0, 3) : [node.inputs[SHAPED_BY_INPUT[node.opType] ?? -1]];
  if (sized.some((input) => input === undefined || !scope.constant.has(input))) return undefined;
  if (node.opType === 'Range') {
    const [start, limit, delta] = sized.map((input) => scope.values.get(input!)?.[0]);
    if (start === undefined || limit === undefined || delta === undefined) return 'unknown';
    if (delta === 0n) return 0n;
    const span = limit - start;
    return span / delta > 0n ? (span + delta - (delta > 0n ? 1n : -1n)) / delta : 0n;
  }
  const shape = scope.values.get(sized[0]!);
  if (!shape) return 'unknown';
  const repeated = node.opType === 'Tile' ? (scope.counts.get(node.inputs[0] ?? '') ?? 1n) : 1n;
  return product(shape) * repeated;
}
