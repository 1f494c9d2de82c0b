import type * as tf from '@tensorflow/tfjs';
import { UserError } from '../../errors.js';
import { producerNode, type GraphNode, type LayerGraph } from '../graph.js';
import { AttributeType, DataType, type AttributeProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.js';

/**
 * TF.js Layers graph -> ONNX graph, for running a span of a Keras-style model (a whole model, an
 * edge half or a cloud half) on ONNX Runtime.
 *
 * Layout: Keras tensors are NHWC, ONNX convolutions NCHW. Every rank-4 tensor inside the ONNX
 * graph is NCHW; a span's input and output stay NHWC (a Transpose at each end), so what crosses
 * the network is exactly what the TF.js backends send, and an edge on one backend talks to a
 * cloud on another. Weights go through a WeightSink, which decides where their bytes live.
 */

export const OPSET = 13;
/** IR version 7 goes with opset 13 (ONNX 1.8) */
const IR_VERSION = 7;

/** Where initializers come from: converts a weight once and hands out TensorProtos that refer to it. */
export interface WeightSink {
  /** `key` names the weight uniquely within the model; `values` computes it (called at most once per key) */
  tensor(key: string, dims: number[], values: () => Float32Array): TensorProto;
}

/** Initializers held in the graph itself (small models, tests). */
export class InlineWeights implements WeightSink {
  tensor(key: string, dims: number[], values: () => Float32Array): TensorProto {
    const v = values();
    return { name: key, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(v.buffer, v.byteOffset, v.byteLength) };
  }
}

type Layout = 'nchw' | 'keras';
interface Value {
  name: string;
  /** rank-4 values are NCHW inside the graph; everything else keeps Keras's layout */
  layout: Layout;
  /** Keras shape, batch included (batch is null in Keras, 1 here) */
  shape: number[];
}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];

/** The layer types this converter knows, for the error message on anything else. */
export const SUPPORTED_LAYERS = [
  'InputLayer', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense', 'BatchNormalization', 'Activation', 'ReLU',
  'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'ZeroPadding2D', 'Flatten',
  'Reshape', 'Dropout', 'Add', 'Multiply', 'Subtract', 'Maximum', 'Minimum', 'Average', 'Concatenate',
] as const;

/**
 * The ONNX model computing `to` from `from` (two tensors of `graph`, e.g. the model input and a
 * partition point), with NHWC float32 input `x` and output `y`, batch 1.
 */
export function spanToOnnx(graph: LayerGraph, from: tf.SymbolicTensor, to: tf.SymbolicTensor, weights: WeightSink, name: string): ModelProto {
  const b = new Builder(weights);
  const values = new Map<number, Value>();
  const inShape = [1, ...(from.shape.slice(1) as number[])];
  values.set(from.id, b.fromKeras('x', inShape));
  for (const node of spanNodes(graph, from, to)) {
    const ins = node.inputTensors.map((t) => {
      const v = values.get(t.id);
      if (!v) throw new Error(`layer '${node.outboundLayer.name}' reads '${t.name}', which the span from '${from.name}' does not compute`);
      return v;
    });
    const out = convertLayer(b, node, ins);
    values.set(node.outputTensors[0]!.id, out);
  }
  const last = values.get(to.id);
  if (!last) throw new Error(`the span from '${from.name}' does not reach '${to.name}'`);
  const outShape = [1, ...(to.shape.slice(1) as number[])];
  b.toKeras(last, 'y');
  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'dnn-partition-bench',
    graph: {
      name,
      node: b.nodes,
      initializer: b.initializers,
      input: [valueInfo('x', inShape)],
      output: [valueInfo('y', outShape)],
    },
  };
}

/** The nodes of `graph` that lie on a path from `from` to `to`, in topological order. */
function spanNodes(graph: LayerGraph, from: tf.SymbolicTensor, to: tf.SymbolicTensor): GraphNode[] {
  const reached = new Set<number>([from.id]);
  const forward = graph.nodes.filter((node) => {
    if (!node.inputTensors.some((t) => reached.has(t.id)) || node.outputTensors.some((t) => t.id === from.id)) return false;
    for (const t of node.outputTensors) reached.add(t.id);
    return true;
  });
  const needed = new Set<GraphNode>();
  const stack = [to];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (t.id === from.id) continue;
    const p = producerNode(t);
    if (needed.has(p)) continue;
    needed.add(p);
    stack.push(...p.inputTensors);
  }
  return forward.filter((n) => needed.has(n));
}

function valueInfo(name: string, dims: number[]): ValueInfoProto {
  return { name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

const ints = (name: string, v: number[]): AttributeProto => ({ name, type: AttributeType.INTS, ints: v.map(BigInt) });
const int = (name: string, v: number): AttributeProto => ({ name, type: AttributeType.INT, i: BigInt(v) });
const float = (name: string, v: number): AttributeProto => ({ name, type: AttributeType.FLOAT, f: v });

/** Accumulates nodes and initializers with unique value names. */
class Builder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly used = new Set<string>();
  private count = 0;

  constructor(private readonly weights: WeightSink) {}

  fresh(hint: string): string {
    let name = hint.replace(/[^A-Za-z0-9_/.:-]/g, '_');
    while (this.used.has(name)) name = `${hint}_${++this.count}`;
    this.used.add(name);
    return name;
  }

  op(opType: string, inputs: string[], hint: string, attribute: AttributeProto[] = []): string {
    const out = this.fresh(hint);
    this.nodes.push({ opType, input: inputs, output: [out], name: out, attribute });
    return out;
  }

  weight(key: string, dims: number[], values: () => Float32Array): string {
    const t = this.weights.tensor(key, dims, values);
    if (!this.initializers.some((i) => i.name === t.name)) this.initializers.push(t);
    return t.name!;
  }

  /** A small int64 constant (shapes, pads). */
  int64s(hint: string, v: number[]): string {
    const name = this.fresh(hint);
    this.initializers.push({ name, dims: [v.length], dataType: DataType.INT64, int64Data: v.map(BigInt) });
    return name;
  }

  /** The graph input as a Value: rank 4 is transposed to NCHW once, here. */
  fromKeras(name: string, shape: number[]): Value {
    this.used.add(name);
    if (shape.length !== 4) return { name, layout: 'keras', shape };
    return { name: this.op('Transpose', [name], `${name}_nchw`, [ints('perm', NHWC_TO_NCHW)]), layout: 'nchw', shape };
  }

  /** Writes `v` to the graph output `name` in Keras layout. */
  toKeras(v: Value, name: string): void {
    this.used.add(name);
    if (v.layout === 'nchw') this.nodes.push({ opType: 'Transpose', input: [v.name], output: [name], name, attribute: [ints('perm', NCHW_TO_NHWC)] });
    else this.nodes.push({ opType: 'Identity', input: [v.name], output: [name], name });
  }

  keras(v: Value): string {
    return v.layout === 'nchw' ? this.op('Transpose', [v.name], `${v.name}_nhwc`, [ints('perm', NCHW_TO_NHWC)]) : v.name;
  }

  /** A Keras-layout value of rank 4 moved to NCHW (after a Reshape). */
  nchw(name: string, shape: number[]): Value {
    if (shape.length !== 4) return { name, layout: 'keras', shape };
    return { name: this.op('Transpose', [name], `${name}_nchw`, [ints('perm', NHWC_TO_NCHW)]), layout: 'nchw', shape };
  }
}

type Config = Record<string, unknown>;

function pair(v: unknown): [number, number] {
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0]!, a[1] ?? a[0]!];
}

/** TF's 'same' padding: the output is ceil(in / stride), extra padding goes at the end. */
function samePads(inHW: number[], kernel: [number, number], strides: [number, number], dilation: [number, number]): number[] {
  const before: number[] = [];
  const after: number[] = [];
  for (let i = 0; i < 2; i++) {
    const size = inHW[i]!;
    const out = Math.ceil(size / strides[i]!);
    const effective = (kernel[i]! - 1) * dilation[i]! + 1;
    const total = Math.max((out - 1) * strides[i]! + effective - size, 0);
    before.push(Math.floor(total / 2));
    after.push(total - Math.floor(total / 2));
  }
  return [...before, ...after];
}

function spatialAttrs(cfg: Config, inShape: number[], kernel: [number, number], strides: [number, number], dilation: [number, number]): AttributeProto[] {
  const pads = cfg.padding === 'same' ? samePads(inShape.slice(1, 3), kernel, strides, dilation) : [0, 0, 0, 0];
  return [ints('kernel_shape', kernel), ints('strides', strides), ints('pads', pads)];
}

function values(w: tf.LayerVariable): Float32Array {
  return w.read().dataSync() as Float32Array;
}

function weightNamed(layer: tf.layers.Layer, base: string): tf.LayerVariable | undefined {
  return layer.weights.find((w) => (w.originalName ?? w.name).replace(/_\d+$/, '').split('/').pop() === base);
}

/**
 * Reorders a TF.js kernel [kh, kw, in, k] for ONNX Conv: `k` is the output channels of a plain
 * kernel (-> [out, in, kh, kw]) or the depth multiplier of a depthwise one (-> grouped conv
 * [in*mult, 1, kh, kw], output channel c*mult+m as TF orders it). Both are the same walk.
 */
function convKernel(v: Float32Array, [kh, kw, cin, k]: number[], depthwise = false): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < kh!; i++)
    for (let j = 0; j < kw!; j++)
      for (let c = 0; c < cin!; c++)
        for (let o = 0; o < k!; o++) {
          const plane = depthwise ? c * k! + o : o * cin! + c;
          out[(plane * kh! + i) * kw! + j] = v[((i * kw! + j) * cin! + c) * k! + o]!;
        }
  return out;
}

function activation(b: Builder, name: string | undefined, x: Value, hint: string): Value {
  const act = (name ?? 'linear').toLowerCase();
  const same = (opType: string, attrs: AttributeProto[] = []): Value => ({ ...x, name: b.op(opType, [x.name], hint, attrs) });
  switch (act) {
    case 'linear':
      return x;
    case 'relu':
      return same('Relu');
    case 'relu6':
      return clip(b, x, 0, 6, hint);
    case 'sigmoid':
      return same('Sigmoid');
    case 'tanh':
      return same('Tanh');
    case 'elu':
      return same('Elu', [float('alpha', 1)]);
    case 'selu':
      return same('Selu');
    case 'softplus':
      return same('Softplus');
    case 'softsign':
      return same('Softsign');
    case 'hardsigmoid':
    case 'hard_sigmoid':
      return same('HardSigmoid', [float('alpha', 0.2), float('beta', 0.5)]);
    case 'swish': {
      const s = b.op('Sigmoid', [x.name], `${hint}_sigmoid`);
      return { ...x, name: b.op('Mul', [x.name, s], hint) };
    }
    case 'softmax': {
      // Keras: the last axis, which is the channel axis (1) in NCHW
      return same('Softmax', [int('axis', x.layout === 'nchw' ? 1 : -1)]);
    }
    default:
      throw new UserError(`activation '${name}' has no ONNX conversion; supported: linear, relu, relu6, sigmoid, tanh, elu, selu, softplus, softsign, hard_sigmoid, swish, softmax (or use --backend wasm)`);
  }
}

function clip(b: Builder, x: Value, lo: number, hi: number, hint: string): Value {
  const min = b.weight(`const/clip_${lo}`, [], () => new Float32Array([lo]));
  const max = b.weight(`const/clip_${hi}`, [], () => new Float32Array([hi]));
  return { ...x, name: b.op('Clip', [x.name, min, max], hint) };
}

/** Keras axis (batch = 0, negative from the end) -> axis in the value's layout. */
function axisIn(v: Value, axis: number): number {
  const a = axis < 0 ? axis + v.shape.length : axis;
  return v.layout === 'nchw' ? [0, 2, 3, 1][a]! : a;
}

function convertLayer(b: Builder, node: GraphNode, ins: Value[]): Value {
  const layer = node.outboundLayer;
  const cls = layer.getClassName();
  const cfg = layer.getConfig() as Config;
  const outShape = [1, ...((node.outputTensors[0]!.shape as (number | null)[]).slice(1) as number[])];
  const x = ins[0]!;
  const hint = layer.name;
  const at = (name: string, layout: Layout = x.layout): Value => ({ name, layout, shape: outShape });
  if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') {
    throw new UserError(`layer '${layer.name}' (${cls}) uses data format ${String(cfg.dataFormat)}; only channels-last models convert to ONNX (or use --backend wasm)`);
  }
  if (node.outputTensors.length !== 1) throw new UserError(`layer '${layer.name}' (${cls}) has ${node.outputTensors.length} outputs; ONNX conversion handles single-output layers`);
  switch (cls) {
    case 'Conv2D': {
      const k = weightNamed(layer, 'kernel')!;
      const [kh, kw, cin, cout] = k.shape as number[];
      const strides = pair(cfg.strides);
      const dilation = pair(cfg.dilationRate ?? 1);
      const inputs = [x.name, b.weight(`${layer.name}/kernel`, [cout!, cin!, kh!, kw!], () => convKernel(values(k), k.shape as number[]))];
      const bias = weightNamed(layer, 'bias');
      if (bias) inputs.push(b.weight(`${layer.name}/bias`, [cout!], () => values(bias)));
      const y = b.op('Conv', inputs, hint, [...spatialAttrs(cfg, x.shape, [kh!, kw!], strides, dilation), ints('dilations', dilation)]);
      return activation(b, cfg.activation as string, at(y), `${hint}_act`);
    }
    case 'DepthwiseConv2D':
    case 'SeparableConv2D': {
      const k = weightNamed(layer, 'depthwise_kernel')!;
      const [kh, kw, cin, mult] = k.shape as number[];
      const strides = pair(cfg.strides);
      const dilation = pair(cfg.dilationRate ?? 1);
      const bias = weightNamed(layer, 'bias');
      const inputs = [x.name, b.weight(`${layer.name}/depthwise_kernel`, [cin! * mult!, 1, kh!, kw!], () => convKernel(values(k), k.shape as number[], true))];
      if (bias && cls === 'DepthwiseConv2D') inputs.push(b.weight(`${layer.name}/bias`, [cin! * mult!], () => values(bias)));
      const attrs = [...spatialAttrs(cfg, x.shape, [kh!, kw!], strides, dilation), ints('dilations', dilation), int('group', cin!)];
      let y = b.op('Conv', inputs, cls === 'SeparableConv2D' ? `${hint}_depthwise` : hint, attrs);
      if (cls === 'SeparableConv2D') {
        const p = weightNamed(layer, 'pointwise_kernel')!;
        const [, , pin, pout] = p.shape as number[];
        const pinputs = [y, b.weight(`${layer.name}/pointwise_kernel`, [pout!, pin!, 1, 1], () => convKernel(values(p), p.shape as number[]))];
        if (bias) pinputs.push(b.weight(`${layer.name}/bias`, [pout!], () => values(bias)));
        y = b.op('Conv', pinputs, hint, [ints('kernel_shape', [1, 1])]);
      }
      return activation(b, cfg.activation as string, at(y), `${hint}_act`);
    }
    case 'Dense': {
      const k = weightNamed(layer, 'kernel')!;
      const [nin, nout] = k.shape as number[];
      const bias = weightNamed(layer, 'bias');
      const w = b.weight(`${layer.name}/kernel`, [nin!, nout!], () => values(k));
      let y: string;
      if (x.shape.length === 2) {
        const inputs = [x.name, w];
        if (bias) inputs.push(b.weight(`${layer.name}/bias`, [nout!], () => values(bias)));
        y = b.op('Gemm', inputs, hint);
      } else {
        // Dense on a higher-rank tensor acts on its last (Keras) axis
        y = b.op('MatMul', [b.keras(x), w], bias ? `${hint}_matmul` : hint);
        if (bias) y = b.op('Add', [y, b.weight(`${layer.name}/bias`, [nout!], () => values(bias))], hint);
      }
      return activation(b, cfg.activation as string, at(y, 'keras'), `${hint}_act`);
    }
    case 'BatchNormalization': {
      const channelAxis = x.shape.length - 1;
      const axes = (Array.isArray(cfg.axis) ? cfg.axis : [cfg.axis]) as number[];
      if (axes.length !== 1 || (axes[0]! < 0 ? axes[0]! + x.shape.length : axes[0]) !== channelAxis) {
        throw new UserError(`layer '${layer.name}' normalises axis ${JSON.stringify(cfg.axis)}; ONNX conversion handles the channel (last) axis only (or use --backend wasm)`);
      }
      const c = x.shape[channelAxis]!;
      const param = (base: string, fill: number) => {
        const w = weightNamed(layer, base);
        return b.weight(`${layer.name}/${base}`, [c], () => (w ? values(w) : new Float32Array(c).fill(fill)));
      };
      const inputs = [x.name, param('gamma', 1), param('beta', 0), param('moving_mean', 0), param('moving_variance', 1)];
      // ONNX BatchNormalization wants (N, C, ...): a rank-2 or NCHW value is that already
      if (x.layout === 'keras' && x.shape.length > 2) throw new UserError(`layer '${layer.name}': batch normalisation of a rank-${x.shape.length} tensor has no ONNX conversion (or use --backend wasm)`);
      return at(b.op('BatchNormalization', inputs, hint, [float('epsilon', Number(cfg.epsilon ?? 1e-3))]));
    }
    case 'Activation':
      return activation(b, cfg.activation as string, x, hint);
    case 'ReLU': {
      const max = cfg.maxValue as number | null | undefined;
      if (Number(cfg.negativeSlope ?? 0) !== 0 || Number(cfg.threshold ?? 0) !== 0) {
        throw new UserError(`layer '${layer.name}' (ReLU with a negative slope or threshold) has no ONNX conversion (or use --backend wasm)`);
      }
      return max === null || max === undefined ? at(b.op('Relu', [x.name], hint)) : clip(b, x, 0, max, hint);
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const pool = pair(cfg.poolSize);
      const strides = pair(cfg.strides ?? cfg.poolSize);
      const attrs = spatialAttrs(cfg, x.shape, pool, strides, [1, 1]);
      // Keras averages over the window's valid cells only
      if (cls === 'AveragePooling2D') attrs.push(int('count_include_pad', 0));
      return at(b.op(cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [x.name], hint, attrs));
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D': {
      const pooled = b.op(cls === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.name], `${hint}_pool`);
      if (outShape.length === 4) return at(pooled); // keepdims
      return at(b.op('Flatten', [pooled], hint, [int('axis', 1)]), 'keras');
    }
    case 'ZeroPadding2D': {
      const p = cfg.padding as number | [number, number] | [[number, number], [number, number]];
      const [[top, bottom], [left, right]] =
        typeof p === 'number' ? [[p, p], [p, p]] : typeof p[0] === 'number' ? [[p[0], p[0]], [p[1] as number, p[1] as number]] : (p as [[number, number], [number, number]]);
      const pads = b.int64s(`${hint}_pads`, [0, 0, top, left, 0, 0, bottom, right]);
      return at(b.op('Pad', [x.name, pads], hint));
    }
    case 'Flatten':
      // Keras flattens in NHWC order
      return at(b.op('Flatten', [b.keras(x)], hint, [int('axis', 1)]), 'keras');
    case 'Reshape': {
      const shape = b.int64s(`${hint}_shape`, [1, ...outShape.slice(1)]);
      return b.nchw(b.op('Reshape', [b.keras(x), shape], outShape.length === 4 ? `${hint}_nhwc` : hint), outShape);
    }
    case 'Dropout':
      return x; // inference: identity
    case 'Add':
    case 'Multiply':
    case 'Subtract':
    case 'Maximum':
    case 'Minimum':
    case 'Average': {
      const opType = { Add: 'Add', Multiply: 'Mul', Subtract: 'Sub', Maximum: 'Max', Minimum: 'Min', Average: 'Mean' }[cls];
      if (ins.some((v) => v.layout !== x.layout)) throw new Error(`layer '${layer.name}': inputs of mixed layouts`);
      if (opType === 'Max' || opType === 'Min' || opType === 'Mean') return at(b.op(opType, ins.map((v) => v.name), hint));
      let acc = x.name;
      ins.slice(1).forEach((v, i) => {
        acc = b.op(opType!, [acc, v.name], i === ins.length - 2 ? hint : `${hint}_${i}`);
      });
      return at(acc);
    }
    case 'Concatenate': {
      if (ins.some((v) => v.layout !== x.layout)) throw new Error(`layer '${layer.name}': inputs of mixed layouts`);
      return at(b.op('Concat', ins.map((v) => v.name), hint, [int('axis', axisIn(x, Number(cfg.axis ?? -1)))]));
    }
    default:
      throw new UserError(`layer '${layer.name}' is a ${cls}, which has no ONNX conversion yet (supported: ${SUPPORTED_LAYERS.join(', ')}); use --backend wasm`);
  }
}
