import { AppError } from '@datalab/platform';
import type { Scope, ShapedNode } from './onnx-constant-shapes.ts';

/**
 * Which tensors hold values computed from the VALUES a request sends (not only its shape), so that
 * no allocation can be sized by them: a caller could otherwise ask ConstantOfShape for a terabyte
 * at /predict, and onnxruntime has no per-session memory cap to stop it before Linux kills the
 * whole process. Shape and Size are the exceptions: they read only an input's shape, which the
 * request's row and column limits bound, and exported models (sklearn-onnx, torch) size their
 * Reshape and Expand from Shape routinely.
 */

/** Operators whose outputs depend on their input's shape only. */
const SHAPE_ONLY = new Set(['Shape', 'Size']);

/** The inputs that set how much an operator allocates, by index. */
const SIZE_INPUTS: Record<string, Record<number, string>> = {
  ConstantOfShape: { 0: 'shape' },
  Expand: { 1: 'shape' },
  Tile: { 1: 'repeats' },
  Range: { 0: 'start', 1: 'limit', 2: 'delta' },
  Resize: { 1: 'roi (scales before opset 11)', 2: 'scales', 3: 'sizes' },
  Upsample: { 1: 'scales' },
  Pad: { 1: 'pads' },
  OneHot: { 1: 'depth' },
};

/** Marks the graph's own inputs (those no initializer stands for) as the request's values. */
export function markRequestInputs(scope: Scope, inputs: string[], initializers: Set<string>): void {
  for (const input of inputs) if (!initializers.has(input)) scope.fromInput.add(input);
}

export function takesInputValues(node: ShapedNode, scope: Scope): boolean {
  return node.inputs.some((input) => scope.fromInput.has(input));
}

/**
 * Records `node`'s outputs as computed from input values when any of its inputs is, or when a
 * subgraph it runs (`subgraphOutputs`) returns such values.
 */
export function markOutputs(node: ShapedNode, scope: Scope, subgraphOutputs: boolean): void {
  if (SHAPE_ONLY.has(node.opType)) return;
  if (!subgraphOutputs && !takesInputValues(node, scope)) return;
  for (const output of node.outputs) if (output !== '') scope.fromInput.add(output);
}

/** Throws a 400 naming the node and its input when an allocation's size comes from input values. */
export function refuseSizeFromInput(node: ShapedNode, scope: Scope): void {
  for (const [index, role] of Object.entries(SIZE_INPUTS[node.opType] ?? {})) {
    const input = node.inputs[Number(index)];
    if (input === undefined || !scope.fromInput.has(input)) continue;
    throw new AppError(
      'invalid',
      `${node.opType} at ${node.place} takes its ${role} (input ${index}, "${input}") from the values of the model's inputs; allocation sizes must not come from input values, since a request could then make the server allocate any amount of memory. Compute sizes from constants or from Shape of an input`,
      { errors: [{ field: 'file', message: `${node.place}: ${role} comes from input values` }] },
    );
  }
}
