import type * as tf from '@tensorflow/tfjs';
import { UserError } from '../../errors.js';
import type { GraphNode } from '../graph.js';
import { float, int, ints, type AttributeInit, type Builder, type Layout, type Value } from './onnx-builder.js';

/**
 * One converter per TF.js layer class, each appending the ONNX nodes (NCHW inside, see
 * from-layers.ts) that compute that layer to a Builder.
 */

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

function spatialAttrs(cfg: Config, inShape: number[], kernel: [number, number], strides: [number, number], dilation: [number, number]): AttributeInit[] {
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
  const same = (opType: string, attrs: AttributeInit[] = []): Value => ({ ...x, name: b.op(opType, [x.name], hint, attrs) });
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

/** What a converter sees of one layer application. */
interface Layer {
  b: Builder;
  layer: tf.layers.Layer;
  cls: string;
  cfg: Config;
  /** the first input, and all of them */
  x: Value;
  ins: Value[];
  /** the name its output takes */
  hint: string;
  /** its output's Keras shape, batch 1 */
  outShape: number[];
  /** the output value named `name`, in `x`'s layout unless told */
  at: (name: string, layout?: Layout) => Value;
}

type Converter = (l: Layer) => Value;

function conv2d({ b, layer, cfg, x, hint, at }: Layer): Value {
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

/** DepthwiseConv2D, and SeparableConv2D (a depthwise conv, then a 1x1 pointwise one). */
function depthwiseConv2d({ b, layer, cls, cfg, x, hint, at }: Layer): Value {
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

function dense({ b, layer, cfg, x, hint, at }: Layer): Value {
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

function batchNormalization({ b, layer, cfg, x, hint, at }: Layer): Value {
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

function relu({ b, layer, cfg, x, hint, at }: Layer): Value {
  const max = cfg.maxValue as number | null | undefined;
  if (Number(cfg.negativeSlope ?? 0) !== 0 || Number(cfg.threshold ?? 0) !== 0) {
    throw new UserError(`layer '${layer.name}' (ReLU with a negative slope or threshold) has no ONNX conversion (or use --backend wasm)`);
  }
  return max === null || max === undefined ? at(b.op('Relu', [x.name], hint)) : clip(b, x, 0, max, hint);
}

function pooling2d({ b, cls, cfg, x, hint, at }: Layer): Value {
  const pool = pair(cfg.poolSize);
  const strides = pair(cfg.strides ?? cfg.poolSize);
  const attrs = spatialAttrs(cfg, x.shape, pool, strides, [1, 1]);
  // Keras averages over the window's valid cells only
  if (cls === 'AveragePooling2D') attrs.push(int('count_include_pad', 0));
  return at(b.op(cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [x.name], hint, attrs));
}

function globalPooling2d({ b, cls, x, hint, outShape, at }: Layer): Value {
  const pooled = b.op(cls === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.name], `${hint}_pool`);
  if (outShape.length === 4) return at(pooled); // keepdims
  return at(b.op('Flatten', [pooled], hint, [int('axis', 1)]), 'keras');
}

function zeroPadding2d({ b, cfg, x, hint, at }: Layer): Value {
  const p = cfg.padding as number | [number, number] | [[number, number], [number, number]];
  const [[top, bottom], [left, right]] =
    typeof p === 'number' ? [[p, p], [p, p]] : typeof p[0] === 'number' ? [[p[0], p[0]], [p[1] as number, p[1] as number]] : (p as [[number, number], [number, number]]);
  const pads = b.int64s(`${hint}_pads`, [0, 0, top, left, 0, 0, bottom, right]);
  return at(b.op('Pad', [x.name, pads], hint));
}

function reshape({ b, x, hint, outShape }: Layer): Value {
  const shape = b.int64s(`${hint}_shape`, [1, ...outShape.slice(1)]);
  return b.nchw(b.op('Reshape', [b.keras(x), shape], outShape.length === 4 ? `${hint}_nhwc` : hint), outShape);
}

const MERGE_OPS: Record<string, string> = { Add: 'Add', Multiply: 'Mul', Subtract: 'Sub', Maximum: 'Max', Minimum: 'Min', Average: 'Mean' };

/** Add, Multiply, Subtract (binary ops, chained over the inputs), Maximum, Minimum, Average (variadic). */
function merge({ b, layer, cls, x, ins, hint, at }: Layer): Value {
  const opType = MERGE_OPS[cls]!;
  if (ins.some((v) => v.layout !== x.layout)) throw new Error(`layer '${layer.name}': inputs of mixed layouts`);
  if (opType === 'Max' || opType === 'Min' || opType === 'Mean') return at(b.op(opType, ins.map((v) => v.name), hint));
  let acc = x.name;
  ins.slice(1).forEach((v, i) => {
    acc = b.op(opType, [acc, v.name], i === ins.length - 2 ? hint : `${hint}_${i}`);
  });
  return at(acc);
}

function concatenate({ b, layer, cfg, x, ins, hint, at }: Layer): Value {
  if (ins.some((v) => v.layout !== x.layout)) throw new Error(`layer '${layer.name}': inputs of mixed layouts`);
  return at(b.op('Concat', ins.map((v) => v.name), hint, [int('axis', axisIn(x, Number(cfg.axis ?? -1)))]));
}

/** The converter of each layer class (TF.js getClassName()). */
const CONVERTERS: Record<string, Converter> = {
  Conv2D: conv2d,
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: depthwiseConv2d,
  Dense: dense,
  BatchNormalization: batchNormalization,
  Activation: ({ b, cfg, x, hint }) => activation(b, cfg.activation as string, x, hint),
  ReLU: relu,
  MaxPooling2D: pooling2d,
  AveragePooling2D: pooling2d,
  GlobalAveragePooling2D: globalPooling2d,
  GlobalMaxPooling2D: globalPooling2d,
  ZeroPadding2D: zeroPadding2d,
  // Keras flattens in NHWC order
  Flatten: ({ b, x, hint, at }) => at(b.op('Flatten', [b.keras(x)], hint, [int('axis', 1)]), 'keras'),
  Reshape: reshape,
  Dropout: ({ x }) => x, // inference: identity
  Add: merge,
  Multiply: merge,
  Subtract: merge,
  Maximum: merge,
  Minimum: merge,
  Average: merge,
  Concatenate: concatenate,
};

/** The layer types this converter knows, for the error message on anything else. */
export const SUPPORTED_LAYERS: readonly string[] = ['InputLayer', ...Object.keys(CONVERTERS)];

/** Appends the ONNX nodes computing one layer application to `b`; returns its output. */
export function convertLayer(b: Builder, node: GraphNode, ins: Value[]): Value {
  const layer = node.outboundLayer;
  const cls = layer.getClassName();
  const cfg = layer.getConfig() as Config;
  const outShape = [1, ...((node.outputTensors[0]!.shape as (number | null)[]).slice(1) as number[])];
  const x = ins[0]!;
  if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') {
    throw new UserError(`layer '${layer.name}' (${cls}) uses data format ${String(cfg.dataFormat)}; only channels-last models convert to ONNX (or use --backend wasm)`);
  }
  if (node.outputTensors.length !== 1) throw new UserError(`layer '${layer.name}' (${cls}) has ${node.outputTensors.length} outputs; ONNX conversion handles single-output layers`);
  const convert = CONVERTERS[cls];
  if (!convert) throw new UserError(`layer '${layer.name}' is a ${cls}, which has no ONNX conversion yet (supported: ${SUPPORTED_LAYERS.join(', ')}); use --backend wasm`);
  return convert({ b, layer, cls, cfg, x, ins, hint: layer.name, outShape, at: (name, layout = x.layout) => ({ name, layout, shape: outShape }) });
}
