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
  return spanAfter(graph, cut, graph.output, `cloud_${cut.layer}`);
}

/**
 * The middle tier's sub-model (three tiers): the layers after point `from` up to point `to`, built
 * like the cloud half; `null` when `from` is `to` (nothing to run).
 */
export function middleSpan(model: tf.LayersModel, graph: LayerGraph, from: CutPoint, to: CutPoint): tf.LayersModel | null {
  if (from.layer === to.layer) return null;
  if (from.kind === 'input') return edgeHalf(model, to);
  if (to.kind === 'output') return cloudHalf(model, graph, from);
  return spanAfter(graph, from, layerTensor(to), `middle_${from.layer}_${to.layer}`);
}

/** A new input of `cut`'s crossing shape and the layers after it re-applied up to tensor `end`. */
function spanAfter(graph: LayerGraph, cut: CutPoint, end: tf.SymbolicTensor, name: string): tf.LayersModel {
  const input = tf.input({ shape: cut.shape, name: `cut_${cut.layer.replace(/[^A-Za-z0-9_]/g, '_')}` });
  const mapped = new Map<number, tf.SymbolicTensor>([[layerTensor(cut).id, input]]);
  for (const node of nodesAfter(graph, cut)) {
    // topological order: once `end` is computed, every layer it depends on has been applied
    if (mapped.has(end.id)) break;
    const ins = node.inputTensors.map((t) => {
      const m = mapped.get(t.id);
      if (!m) throw new Error(`layer '${node.outboundLayer.name}' needs '${t.name}', which does not come from point '${cut.layer}'`);
      return m;
    });
    const result = node.outboundLayer.apply(ins.length === 1 ? ins[0]! : ins, node.callArgs ?? {});
    const outs = Array.isArray(result) ? result : [result];
    node.outputTensors.forEach((t, i) => mapped.set(t.id, outs[i] as tf.SymbolicTensor));
  }
  const output = mapped.get(end.id);
  if (!output) throw new Error(`point '${cut.layer}' does not lead to '${end.name}'`);
  return tf.model({ inputs: input, outputs: output, name: name.replace(/[^A-Za-z0-9_]/g, '_') });
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
