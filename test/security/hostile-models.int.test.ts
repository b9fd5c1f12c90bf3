import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attribute,
  encode,
  FLOAT,
  graph,
  INT64,
  model,
  node,
  plusOneModel,
  tensor,
  valueInfo,
  type Message,
} from './onnx-bytes.ts';
import { bearer, expectProblem, startStack, type Stack } from './stack.ts';

/**
 * Hostile model uploads, through the gateway as an editor would send them. Each must be refused
 * with a 4xx problem+json naming the place in the file (the tensor, the node) or the limit, never a
 * 5xx or a dead process, and must leave no model behind. The ai-service accepts one model format,
 * ONNX, on one route: archives, pickles and other formats sent there are refused as not ONNX.
 */

const MODELS = '/api/v1/ai/models';
const x = valueInfo('x', FLOAT, ['N', 1]);
const y = valueInfo('y', FLOAT, ['N', 1]);

/** A one-node graph y = x + K, K as given: the smallest model that uses an initializer. */
function withInitializer(initializer: Message): Uint8Array {
  return model(
    graph({
      nodes: [node('Add', ['x', 'K'], ['y'])],
      initializers: [initializer],
      inputs: [x],
      outputs: [y],
    }),
  );
}

const external = (location: string) => tensor({ name: 'K', dims: [1], type: FLOAT, external: location });

/** `y = If(c) then (y = x + K) else (y = x)`, with `inner` as the then-branch's initializer. */
function ifModel(branch: Message): Uint8Array {
  return model(
    graph({
      nodes: [
        node(
          'If',
          ['c'],
          ['y'],
          [attribute('then_branch', { g: branch }), attribute('else_branch', { g: branch })],
        ),
      ],
      initializers: [tensor({ name: 'c', dims: [], type: 9, int64s: [] })],
      inputs: [x],
      outputs: [y],
    }),
  );
}

const branchWith = (initializer: Message): Message =>
  graph({ nodes: [node('Add', ['x', 'K'], ['y'])], initializers: [initializer], inputs: [], outputs: [y] });

/** If nested `depth` deep, each then-branch holding the next. */
function nestedIfs(depth: number): Uint8Array {
  const leaf: Message = graph({ nodes: [node('Identity', ['x'], ['y'])], inputs: [], outputs: [y] });
  let branch = leaf;
  for (let level = 1; level < depth; level++)
    branch = graph({
      nodes: [
        node(
          'If',
          ['c'],
          ['y'],
          [attribute('then_branch', { g: branch }), attribute('else_branch', { g: leaf })],
        ),
      ],
      inputs: [],
      outputs: [y],
    });
  return ifModel(branch);
}

/** `op(input, shape)` feeding y's sum: an allocation sized by a constant, as folding would make at load. */
function allocating(op: string, shape: (number | bigint)[], asConstantNode = false): Uint8Array {
  const shapeInput = tensor({ name: 'S', dims: [shape.length], type: INT64, int64s: shape });
  const nodes = [
    ...(asConstantNode ? [node('Constant', [], ['S'], [attribute('value', { t: shapeInput })])] : []),
    op === 'ConstantOfShape' ? node(op, ['S'], ['big']) : node(op, ['x', 'S'], ['big']),
    node('ReduceSum', ['big'], ['y'], [attribute('keepdims', { i: 1 })]),
  ];
  return model(graph({ nodes, initializers: asConstantNode ? [] : [shapeInput], inputs: [x], outputs: [y] }));
}

/** ConstantOfShape of a shape `op` computes from two constant halves: what folding would have made at load. */
function shapeComputedBy(op: string, attributes: Message[] = []): Uint8Array {
  const half = (name: string) => tensor({ name, dims: [1], type: INT64, int64s: [100_000] });
  return model(
    graph({
      nodes: [
        node(op, ['a', 'b'], ['S'], attributes),
        node('ConstantOfShape', ['S'], ['big']),
        node('ReduceSum', ['big'], ['y'], [attribute('keepdims', { i: 1 })]),
      ],
      initializers: [half('a'), half('b')],
      inputs: [x],
      outputs: [y],
    }),
  );
}

function rangeModel(limit: bigint): Uint8Array {
  const scalar = (name: string, value: bigint) => tensor({ name, dims: [], type: INT64, int64s: [value] });
  return model(
    graph({
      nodes: [node('Range', ['a', 'b', 'd'], ['big']), node('ReduceSum', ['big'], ['y'])],
      initializers: [scalar('a', 0n), scalar('b', limit), scalar('d', 1n)],
      inputs: [x],
      outputs: [y],
    }),
  );
}

const n = valueInfo('n', INT64, ['N', 1]);
const BOOL = 9;
const flat = tensor({ name: 'flat', dims: [1], type: INT64, int64s: [-1] });
const int64Scalar = (name: string, value: number) => tensor({ name, dims: [], type: INT64, int64s: [value] });
const sum = (input: string) => node('ReduceSum', [input], ['y'], [attribute('keepdims', { i: 1 })]);

/** `nodes` make `big` from x and the request's int64 values n: an allocation the caller could size. */
function sizedByRequest(nodes: Message[], initializers: Message[] = []): Uint8Array {
  return model(
    graph({
      nodes: [...nodes, sum('big')],
      initializers: [flat, ...initializers],
      inputs: [x, n],
      outputs: [y],
    }),
  );
}

/** `If` over a branch reading the outer graph's tensors, `then` as its nodes. */
function branching(before: Message[], then: Message[], after: Message[]): Uint8Array {
  const branch = graph({ nodes: then, inputs: [], outputs: [valueInfo('out', FLOAT, ['N', 1])] });
  return model(
    graph({
      nodes: [
        ...before,
        node(
          'If',
          ['c'],
          ['out'],
          [attribute('then_branch', { g: branch }), attribute('else_branch', { g: branch })],
        ),
        ...after,
      ],
      initializers: [
        flat,
        [
          [8, 'c'],
          [2, BOOL],
          [5, 1],
        ],
      ],
      inputs: [x, n],
      outputs: [y],
    }),
  );
}

const toFloat = (input: string, output: string) =>
  node('Cast', [input], [output], [attribute('to', { i: FLOAT })]);
const shapeFromRequest = node('Reshape', ['n', 'flat'], ['s']);
const limitFromRequest = node('ReduceMax', ['n'], ['limit'], [attribute('keepdims', { i: 0 })]);

const plain = plusOneModel();
const EXTERNAL = /keeps its data outside the model file/;
const TENSOR_BUDGET = /\(AI_ONNX_MAX_TENSOR_BYTES\)/;
const NOT_ONNX = /not (an ONNX model|a model onnxruntime can load)/;

/** [what, bytes, status, what the detail must say]. */
const CORPUS: [string, Uint8Array, number, RegExp][] = [
  [
    'external data in a graph initializer',
    withInitializer(external('weights.bin')),
    400,
    /graph\.initializer\[0\] "K" keeps/,
  ],
  [
    'external data in an If branch',
    ifModel(branchWith(external('w.bin'))),
    400,
    /graph\.node\[0\] \(If\)\.attribute "then_branch"\.g\.initializer\[0\] "K"/,
  ],
  [
    'external data in a sparse initializer',
    model(
      graph({
        nodes: [node('Identity', ['x'], ['y'])],
        sparse: [[external('sparse.bin'), tensor({ name: 'i', dims: [1], type: INT64, int64s: [0] })]],
        inputs: [x],
        outputs: [y],
      }),
    ),
    400,
    /graph\.sparse_initializer\[0\]\.values "K" keeps/,
  ],
  [
    'external data in a Constant node’s value',
    model(
      graph({
        nodes: [
          node('Constant', [], ['K'], [attribute('value', { t: external('c.bin') })]),
          node('Add', ['x', 'K'], ['y']),
        ],
        inputs: [x],
        outputs: [y],
      }),
    ),
    400,
    /graph\.node\[0\] \(Constant\)\.attribute "value"\.t "K" keeps/,
  ],
  [
    'external data in a Constant inside a Loop body inside an If',
    ifModel(
      graph({
        nodes: [
          node(
            'Loop',
            ['n', 'c'],
            ['y'],
            [
              attribute('body', {
                g: graph({
                  nodes: [node('Constant', [], ['K'], [attribute('value', { t: external('deep.bin') })])],
                  inputs: [],
                  outputs: [y],
                }),
              }),
            ],
          ),
        ],
        inputs: [],
        outputs: [y],
      }),
    ),
    400,
    /\(If\)\.attribute "then_branch"\.g\.node\[0\] \(Loop\)\.attribute "body"\.g\.node\[0\] \(Constant\)/,
  ],
  [
    'external data in a training graph',
    encode([
      [1, 8],
      [8, [[2, 13]]],
      [7, graph({ nodes: [node('Identity', ['x'], ['y'])], inputs: [x], outputs: [y] })],
      [20, [[1, branchWith(external('t.bin'))]]],
    ]),
    400,
    /training_info\[0\]\.initialization\.initializer\[0\] "K" keeps/,
  ],
  [
    'external data in a model-local function',
    encode([
      [1, 8],
      [8, [[2, 13]]],
      [7, graph({ nodes: [node('Identity', ['x'], ['y'])], inputs: [x], outputs: [y] })],
      [
        25,
        [
          [1, 'f'],
          [10, 'custom'],
          [7, node('Constant', [], ['K'], [attribute('value', { t: external('f.bin') })])],
        ],
      ],
    ]),
    400,
    /functions\[0\]\.node\[0\] \(Constant\)/,
  ],
  ...[
    '/etc/passwd',
    '../../../../etc/passwd',
    'file:///etc/passwd',
    '..\\..\\win.ini',
    '',
    '%2e%2e/%2e%2e/etc/passwd',
    'a/'.repeat(3000),
  ].map((location): [string, Uint8Array, number, RegExp] => [
    `the location ${JSON.stringify(location.slice(0, 30))}`,
    withInitializer(external(location)),
    400,
    EXTERNAL,
  ]),
  ['a truncated file', plain.subarray(0, plain.length - 7), 400, NOT_ONNX],
  [
    'a length that runs past the end',
    Uint8Array.from([0x3a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]),
    400,
    /runs past the end/,
  ],
  ['random bytes', Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24), 400, NOT_ONNX],
  [
    'a zip archive',
    Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0, ...new Array<number>(40).fill(0)]),
    400,
    NOT_ONNX,
  ],
  [
    'a pickle (joblib, PyTorch)',
    Uint8Array.from([
      0x80,
      0x04,
      0x95,
      0x10,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0x8c,
      0x05,
      ...Buffer.from('posix'),
      0x94,
      0x2e,
    ]),
    400,
    NOT_ONNX,
  ],
  [
    'JSON',
    new TextEncoder().encode('{"graph": {"initializer": [{"external_data": "/etc/passwd"}]}}'),
    400,
    NOT_ONNX,
  ],
  [
    'an initializer declaring 10^12 floats',
    withInitializer(tensor({ name: 'K', dims: [1_000_000, 1_000_000], type: FLOAT })),
    413,
    TENSOR_BUDGET,
  ],
  [
    'an initializer with dims that overflow int64 products',
    withInitializer(tensor({ name: 'K', dims: [2n ** 62n, 2n ** 62n, 4], type: FLOAT })),
    413,
    TENSOR_BUDGET,
  ],
  [
    'a negative dimension',
    withInitializer(tensor({ name: 'K', dims: [-4], type: FLOAT })),
    400,
    /"K" has a negative dimension/,
  ],
  [
    'ConstantOfShape of 10^10 elements',
    allocating('ConstantOfShape', [100_000, 100_000]),
    413,
    /ConstantOfShape at graph\.node\[0\].*\(AI_ONNX_MAX_TENSOR_BYTES\)/,
  ],
  [
    'ConstantOfShape shaped by a Constant node',
    allocating('ConstantOfShape', [100_000, 100_000], true),
    413,
    /graph\.node\[1\] \(ConstantOfShape\)/,
  ],
  ['Expand to 10^10 elements', allocating('Expand', [100_000, 100_000]), 413, /Expand at graph\.node\[0\]/],
  ['Tile 10^10 times', allocating('Tile', [100_000, 100_000]), 413, /Tile at graph\.node\[0\]/],
  ['Range over 10^12 values', rangeModel(10n ** 12n), 413, /Range at graph\.node\[0\]/],
  [
    'ConstantOfShape shaped by a Concat of constants',
    shapeComputedBy('Concat', [attribute('axis', { i: 0 })]),
    413,
    /ConstantOfShape at graph\.node\[1\]/,
  ],
  [
    'ConstantOfShape shaped by a Mul of constants',
    shapeComputedBy('Mul'),
    400,
    /size of ConstantOfShape at graph\.node\[1\] \(ConstantOfShape\) is computed from constants/,
  ],
  [
    'RandomNormal of 10^10 values',
    model(
      graph({
        nodes: [
          node('RandomNormal', [], ['big'], [attribute('shape', { ints: [100_000, 100_000] })]),
          node('ReduceSum', ['big'], ['y']),
        ],
        inputs: [x],
        outputs: [y],
      }),
    ),
    413,
    /RandomNormal at graph\.node\[0\]/,
  ],
  [
    'ConstantOfShape shaped by a request’s values (as a caller sized it at run time before)',
    model(
      graph({
        nodes: [
          node('Reshape', ['n', 'flat'], ['shape']),
          node('ConstantOfShape', ['shape'], ['big']),
          sum('big'),
        ],
        initializers: [flat],
        inputs: [valueInfo('n', INT64, [1, 1])],
        outputs: [valueInfo('y', FLOAT, [1])],
      }),
    ),
    400,
    /ConstantOfShape at graph\.node\[1\] \(ConstantOfShape\) takes its shape \(input 0, "shape"\) from the values of the model's inputs; allocation sizes must not come from input values/,
  ],
  [
    'ConstantOfShape of Cast of a request’s values',
    sizedByRequest([
      node('Cast', ['n'], ['c'], [attribute('to', { i: INT64 })]),
      node('Reshape', ['c', 'flat'], ['s']),
      node('ConstantOfShape', ['s'], ['big']),
    ]),
    400,
    /graph\.node\[2\] \(ConstantOfShape\) takes its shape \(input 0, "s"\)/,
  ],
  [
    'Range up to a request’s value',
    sizedByRequest(
      [limitFromRequest, node('Range', ['zero', 'limit', 'one'], ['r']), toFloat('r', 'big')],
      [int64Scalar('zero', 0), int64Scalar('one', 1)],
    ),
    400,
    /graph\.node\[1\] \(Range\) takes its limit \(input 1, "limit"\)/,
  ],
  [
    'Range stepping by a request’s value',
    sizedByRequest(
      [limitFromRequest, node('Range', ['zero', 'big_limit', 'limit'], ['r']), toFloat('r', 'big')],
      [int64Scalar('zero', 0), int64Scalar('big_limit', 1e9)],
    ),
    400,
    /graph\.node\[1\] \(Range\) takes its delta \(input 2, "limit"\)/,
  ],
  [
    'Tile repeated by a request’s values',
    sizedByRequest([shapeFromRequest, node('Tile', ['x', 's'], ['big'])]),
    400,
    /graph\.node\[1\] \(Tile\) takes its repeats \(input 1, "s"\)/,
  ],
  [
    'Expand to a shape Reshaped from a request’s values',
    sizedByRequest([shapeFromRequest, node('Expand', ['x', 's'], ['big'])]),
    400,
    /graph\.node\[1\] \(Expand\) takes its shape \(input 1, "s"\)/,
  ],
  [
    'Resize to sizes from a request’s values',
    sizedByRequest(
      [node('Reshape', ['n', 'pair'], ['s']), node('Resize', ['x', '', '', 's'], ['big'])],
      [tensor({ name: 'pair', dims: [1], type: INT64, int64s: [2] })],
    ),
    400,
    /graph\.node\[1\] \(Resize\) takes its sizes \(input 3, "s"\)/,
  ],
  [
    'Resize by scales from a request’s values',
    sizedByRequest([
      toFloat('n', 'f'),
      node('Reshape', ['f', 'flat'], ['scales']),
      node('Resize', ['x', '', 'scales'], ['big']),
    ]),
    400,
    /graph\.node\[2\] \(Resize\) takes its scales \(input 2, "scales"\)/,
  ],
  [
    'Pad by pads from a request’s values',
    sizedByRequest([shapeFromRequest, node('Pad', ['x', 's'], ['big'])]),
    400,
    /graph\.node\[1\] \(Pad\) takes its pads \(input 1, "s"\)/,
  ],
  [
    'OneHot of a depth from a request’s values',
    sizedByRequest(
      [limitFromRequest, node('OneHot', ['n', 'limit', 'onoff'], ['big'])],
      [tensor({ name: 'onoff', dims: [2], type: FLOAT, floats: [0, 1] })],
    ),
    400,
    /graph\.node\[1\] \(OneHot\) takes its depth \(input 1, "limit"\)/,
  ],
  [
    'ConstantOfShape in an If branch, shaped by the outer graph’s request values',
    branching(
      [shapeFromRequest],
      [node('ConstantOfShape', ['s'], ['big']), node('ReduceSum', ['big'], ['out'])],
      [sum('out')],
    ),
    400,
    /\(If\)\.attribute "then_branch"\.g\.node\[0\] \(ConstantOfShape\) takes its shape/,
  ],
  [
    'ConstantOfShape shaped by what an If branch made of a request’s values',
    branching(
      [],
      [node('Reshape', ['n', 'flat'], ['s']), node('Cast', ['s'], ['out'], [attribute('to', { i: FLOAT })])],
      [
        node('Cast', ['out'], ['s2'], [attribute('to', { i: INT64 })]),
        node('ConstantOfShape', ['s2'], ['big']),
        sum('big'),
      ],
    ),
    400,
    /graph\.node\[2\] \(ConstantOfShape\) takes its shape \(input 0, "s2"\)/,
  ],
  ['subgraphs nested 17 deep', nestedIfs(17), 400, /Subgraphs nest deeper than 16 levels/],
  ['subgraphs nested 300 deep', nestedIfs(300), 400, /Subgraphs nest deeper than 16 levels/],
  [
    'an opset from the future',
    model(graph({ nodes: [node('Add', ['x', 'x'], ['y'])], inputs: [x], outputs: [y] }), 99_999),
    400,
    NOT_ONNX,
  ],
  [
    '20,000 attributes on one node',
    model(
      graph({
        nodes: [
          node(
            'Add',
            ['x', 'x'],
            ['y'],
            Array.from({ length: 20_000 }, (_, i) => attribute(`a${i}`, { i })),
          ),
        ],
        inputs: [x],
        outputs: [y],
      }),
    ),
    400,
    NOT_ONNX,
  ],
];

describe('hostile model uploads', () => {
  let stack: Stack;
  let editor: string;

  beforeAll(async () => {
    stack = await startStack();
    editor = (await stack.signedIn('editor')).token;
  }, 180_000);
  afterAll(() => stack?.close());

  const upload = (bytes: Uint8Array, name = 'hostile') => {
    const form = new FormData();
    form.append('name', name);
    form.append('file', new Blob([bytes]), `${name}.onnx`);
    return fetch(`${stack.url}${MODELS}/onnx`, { method: 'POST', headers: bearer(editor), body: form });
  };

  const models = async (): Promise<unknown> => {
    const response = await fetch(`${stack.url}${MODELS}?owner=me`, { headers: bearer(editor) });
    expect(response.status).toBe(200);
    return response.json();
  };

  it.each(CORPUS)('refuses %s, naming the place or the limit', async (_what, bytes, status, detail) => {
    const before = await models();
    const problem = await expectProblem(await upload(bytes), status);
    expect(problem.detail).toMatch(detail);
    expect(problem.errors).toEqual([expect.objectContaining({ field: 'file' })]);
    if (status === 413) expect(problem).toMatchObject({ limit: 'AI_ONNX_MAX_TENSOR_BYTES' });
    expect(await models()).toEqual(before);
    stack.assertAlive();
  });

  it('serves a model that sizes an allocation from Shape of its input, as exported models do', async () => {
    const shapeDerived = model(
      graph({
        nodes: [
          node('Shape', ['x'], ['shape']),
          node('Gather', ['shape', 'first'], ['rows']),
          node('Concat', ['rows', 'three'], ['wide'], [attribute('axis', { i: 0 })]),
          node('Expand', ['x', 'wide'], ['big']),
          node('ReduceSum', ['big', 'columns'], ['y'], [attribute('keepdims', { i: 1 })]),
        ],
        initializers: [
          tensor({ name: 'first', dims: [1], type: INT64, int64s: [0] }),
          tensor({ name: 'three', dims: [1], type: INT64, int64s: [3] }),
          tensor({ name: 'columns', dims: [1], type: INT64, int64s: [1] }),
        ],
        inputs: [x],
        outputs: [y],
      }),
    );
    const created = await upload(shapeDerived, 'shape-derived');
    expect(created.status).toBe(201);
    const { model_id: id } = (await created.json()) as { model_id: string };
    const predicted = await fetch(`${stack.url}${MODELS}/${id}/predict`, {
      method: 'POST',
      headers: bearer(editor, true),
      body: JSON.stringify({ rows: [{ x: [2] }, { x: [5] }] }),
    });
    expect(predicted.status).toBe(200);
    expect(await predicted.json()).toMatchObject({ predictions: [{ y: [6] }, { y: [15] }] });
  });

  it('still takes an ordinary model afterwards', async () => {
    expect((await upload(plain, 'plain')).status).toBe(201);
  });
});
