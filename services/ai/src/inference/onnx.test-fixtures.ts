import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

type Dim = number | string;

function valueInfo(name: string, elemType: number, dims: readonly Dim[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  });
}

function floats(name: string, dims: number[], values: number[]) {
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    floatData: values,
  });
}

function encode(graph: ReturnType<typeof onnx.GraphProto.create>): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'datalab-tests',
    opsetImport: [{ domain: '', version: 13 }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * y = x · W + b with W = weights (a column) and b = bias: x is float32 [N, k], y is [N, 1].
 * Small enough to compute by hand, built from the ONNX protobuf directly.
 */
export function linearModel(weights: number[], bias: number, batch: Dim = 'N'): Uint8Array {
  const k = weights.length;
  return encode(
    onnx.GraphProto.create({
      name: 'linear',
      node: [
        onnx.NodeProto.create({ opType: 'MatMul', input: ['x', 'W'], output: ['xw'] }),
        onnx.NodeProto.create({ opType: 'Add', input: ['xw', 'b'], output: ['y'] }),
      ],
      initializer: [floats('W', [k, 1], weights), floats('b', [1], [bias])],
      input: [valueInfo('x', onnx.TensorProto.DataType.FLOAT, [batch, k])],
      output: [valueInfo('y', onnx.TensorProto.DataType.FLOAT, [batch, 1])],
    }),
  );
}

/** Two inputs of different types: `a` float32 [N, 2], `n` int64 [N, 1]; out = sum(a) * n as float32 [N]. */
export function twoInputModel(): Uint8Array {
  return encode(
    onnx.GraphProto.create({
      name: 'two-inputs',
      node: [
        onnx.NodeProto.create({
          opType: 'ReduceSum',
          input: ['a', 'axes'],
          output: ['s'],
          attribute: [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
        }),
        onnx.NodeProto.create({
          opType: 'Cast',
          input: ['n'],
          output: ['nf'],
          attribute: [
            { name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: onnx.TensorProto.DataType.FLOAT },
          ],
        }),
        onnx.NodeProto.create({
          opType: 'Reshape',
          input: ['nf', 'flat'],
          output: ['n1'],
        }),
        onnx.NodeProto.create({ opType: 'Mul', input: ['s', 'n1'], output: ['out'] }),
      ],
      initializer: [
        onnx.TensorProto.create({
          name: 'flat',
          dims: [1],
          dataType: onnx.TensorProto.DataType.INT64,
          int64Data: [-1],
        }),
        onnx.TensorProto.create({
          name: 'axes',
          dims: [1],
          dataType: onnx.TensorProto.DataType.INT64,
          int64Data: [1],
        }),
      ],
      input: [
        valueInfo('a', onnx.TensorProto.DataType.FLOAT, ['N', 2]),
        valueInfo('n', onnx.TensorProto.DataType.INT64, ['N', 1]),
      ],
      output: [valueInfo('out', onnx.TensorProto.DataType.FLOAT, ['N'])],
    }),
  );
}

/**
 * A dense layer stack, heavy enough to measure runs: x [N, width] → `layers` ×
 * (·W, ReLU) of `hidden` units → ·W → y [N, 1].
 */
export function mlpModel(width: number, hidden: number, layers = 1, seed = 1): Uint8Array {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return (state / 2147483648 - 0.5) / Math.sqrt(hidden);
  };
  const node: ReturnType<typeof onnx.NodeProto.create>[] = [];
  const initializer: ReturnType<typeof floats>[] = [];
  let input = 'x';
  let inputSize = width;
  for (let layer = 0; layer < layers; layer++) {
    initializer.push(
      floats(`W${layer}`, [inputSize, hidden], Array.from({ length: inputSize * hidden }, random)),
    );
    node.push(
      onnx.NodeProto.create({ opType: 'MatMul', input: [input, `W${layer}`], output: [`h${layer}`] }),
    );
    node.push(onnx.NodeProto.create({ opType: 'Relu', input: [`h${layer}`], output: [`r${layer}`] }));
    input = `r${layer}`;
    inputSize = hidden;
  }
  initializer.push(floats('Wout', [hidden, 1], Array.from({ length: hidden }, random)));
  node.push(onnx.NodeProto.create({ opType: 'MatMul', input: [input, 'Wout'], output: ['y'] }));
  return encode(
    onnx.GraphProto.create({
      name: 'mlp',
      node,
      initializer,
      input: [valueInfo('x', onnx.TensorProto.DataType.FLOAT, ['N', width])],
      output: [valueInfo('y', onnx.TensorProto.DataType.FLOAT, ['N', 1])],
    }),
  );
}

/** A model whose weight claims to live in a file beside it: a way to make the server read its own files. */
export function externalDataModel(location: string): Uint8Array {
  return encode(
    onnx.GraphProto.create({
      name: 'external',
      node: [onnx.NodeProto.create({ opType: 'MatMul', input: ['x', 'W'], output: ['y'] })],
      initializer: [
        onnx.TensorProto.create({
          name: 'W',
          dims: [1, 1],
          dataType: onnx.TensorProto.DataType.FLOAT,
          dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
          externalData: [
            { key: 'location', value: location },
            { key: 'length', value: '4' },
          ],
        }),
      ],
      input: [valueInfo('x', onnx.TensorProto.DataType.FLOAT, ['N', 1])],
      output: [valueInfo('y', onnx.TensorProto.DataType.FLOAT, ['N', 1])],
    }),
  );
}
