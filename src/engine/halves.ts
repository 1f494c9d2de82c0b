import tf from '../tfjs.cjs';
import type { LayerGraph } from '../model/graph.js';
import { layerTensor, nodesAfter, type CutPoint } from '../model/partition.js';

/**
 * The two sub-models of one partition point. Both are built from the full model's own layer
 * objects, so they share its weight tensors: one copy of the weights however many points.
 * `null` means "nothing to run on that side": the edge half of the cloud-only point (the edge
 * sends the raw input) and the cloud half of the edge-only point.
 */
export interface Halves {
  cut: CutPoint;
  edge: tf.LayersModel | null;
  cloud: tf.LayersModel | null;
}

export function edgeHalf(model: tf.LayersModel, cut: CutPoint): tf.LayersModel | null {
  if (cut.kind === 'input') return null;
  if (cut.kind === 'output') return model;
  return tf.model({ inputs: model.inputs, outputs: layerTensor(cut), name: `edge_${cut.layer}` });
}

/**
 * The cloud half: a new input of the crossing tensor's shape, and every layer after the point
 * applied again to it in topological order (re-applying a Keras layer shares its weights).
 */
export function cloudHalf(model: tf.LayersModel, graph: LayerGraph, cut: CutPoint): tf.LayersModel | null {
  if (cut.kind === 'output') return null;
  if (cut.kind === 'input') return model;
  const input = tf.input({ shape: cut.shape, name: `cut_${cut.layer.replace(/[^A-Za-z0-9_]/g, '_')}` });
  const mapped = new Map<number, tf.SymbolicTensor>([[layerTensor(cut).id, input]]);
  for (const node of nodesAfter(graph, cut)) {
    const ins = node.inputTensors.map((t) => {
      const m = mapped.get(t.id);
      if (!m) throw new Error(`layer '${node.outboundLayer.name}' needs '${t.name}', which does not come from point '${cut.layer}'`);
      return m;
    });
    const result = node.outboundLayer.apply(ins.length === 1 ? ins[0]! : ins, node.callArgs ?? {});
    const outs = Array.isArray(result) ? result : [result];
    node.outputTensors.forEach((t, i) => mapped.set(t.id, outs[i] as tf.SymbolicTensor));
  }
  const output = mapped.get(graph.output.id);
  if (!output) throw new Error(`point '${cut.layer}' does not lead to the model output`);
  return tf.model({ inputs: input, outputs: output, name: `cloud_${cut.layer}` });
}

export function buildHalves(model: tf.LayersModel, graph: LayerGraph, cut: CutPoint): Halves {
  return { cut, edge: edgeHalf(model, cut), cloud: cloudHalf(model, graph, cut) };
}

/**
 * Runs a half on a concrete tensor. `null` halves pass the tensor through (a clone, so callers
 * can always dispose what they get). Intermediate tensors are freed; the caller owns the result.
 */
export function runHalf(half: tf.LayersModel | null, x: tf.Tensor): tf.Tensor {
  if (half === null) return x.clone();
  // apply() runs the graph once, without predict()'s batch slicing and input copies.
  return tf.tidy(() => half.apply(x, { training: false }) as tf.Tensor);
}
