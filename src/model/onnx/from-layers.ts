import type * as tf from '@tensorflow/tfjs';
import { create } from '@bufbuild/protobuf';
import { producerNode, type GraphNode, type LayerGraph } from '../graph.js';
import { Builder, type Value, type WeightSink } from './onnx-builder.js';
import { ModelProtoSchema, floatValue, type ModelProto } from './onnx-codec.js';
import { convertLayer } from './layer-converters.js';

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
const IR_VERSION = 7n;

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
  return create(ModelProtoSchema, {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: BigInt(OPSET) }],
    producerName: 'dnn-partition-bench',
    graph: {
      name,
      node: b.nodes,
      initializer: b.initializers,
      input: [floatValue('x', inShape)],
      output: [floatValue('y', outShape)],
    },
  });
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

