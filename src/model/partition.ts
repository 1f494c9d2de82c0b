import type * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import { buildGraph, type GraphNode, type LayerGraph } from './graph.js';

/**
 * A partition point: a tensor that every path from the model input to its output passes
 * through. Layers up to it run on the edge, the tensor crosses the network, the rest runs on
 * the cloud. The first point is the model input (cloud-only), the last the model output
 * (edge-only: nothing crosses but the result, no cloud work).
 */
export interface CutPoint {
  /**
   * position of the producing layer in the model's layer list (0 = the InputLayer); for ONNX
   * models the position of the producing node in the graph's node list (-1 = the graph input)
   */
  index: number;
  /** name of the producing layer (ONNX: of the value that crosses), as users pass it to --cuts */
  layer: string;
  /** shape of the crossing tensor, batch excluded */
  shape: number[];
  /** float32 bytes of the crossing tensor for batch 1 */
  bytes: number;
  kind: 'input' | 'inner' | 'output';
  /** parameters of the layers on the edge side (input -> this point) */
  edgeParams: number;
  /** the crossing tensor itself (internal: used to build the halves of TF.js layers models) */
  tensor?: tf.SymbolicTensor;
}

/**
 * Finds every partition point by graph analysis: a tensor t is a point exactly when the output
 * is unreachable from the input once t is removed (t dominates the output). Unlike the published
 * tool's rule ("the tensor's only consumer is the next layer"), this finds the inputs of residual
 * blocks, whose tensors feed several layers.
 */
export function findCutPoints(model: tf.LayersModel, graph: LayerGraph = buildGraph(model)): CutPoint[] {
  const layerIndex = new Map(model.layers.map((l, i) => [l, i]));
  const cuts: CutPoint[] = [];
  const seenParams = new Set<tf.layers.Layer>();
  let edgeParams = 0;
  for (const node of graph.nodes) {
    // nodes are topologically ordered, so the edge side of a point is every node up to it
    if (!seenParams.has(node.outboundLayer)) {
      seenParams.add(node.outboundLayer);
      edgeParams += node.outboundLayer.countParams();
    }
    node.outputTensors.forEach((t, i) => {
      const isInput = t.id === graph.input.id;
      const isOutput = t.id === graph.output.id;
      if (!isInput && !isOutput && !dominatesOutput(graph, t.id)) return;
      const shape = t.shape.slice(1) as number[];
      if (shape.some((d) => d === null)) return; // a dynamic dimension cannot be framed ahead
      const name = node.outputTensors.length > 1 ? `${node.outboundLayer.name}:${i}` : node.outboundLayer.name;
      cuts.push({
        index: layerIndex.get(node.outboundLayer) ?? -1,
        layer: name,
        shape,
        bytes: 4 * shape.reduce((a, b) => a * b, 1),
        kind: isInput ? 'input' : isOutput ? 'output' : 'inner',
        edgeParams: isInput ? 0 : edgeParams,
        tensor: t,
      });
    });
  }
  return disambiguate(cuts);
}

/** True when no path from the input to the output avoids tensor `blocked`. */
function dominatesOutput(graph: LayerGraph, blocked: number): boolean {
  const successors = (id: number) => (graph.consumers.get(id) ?? []).flatMap((n) => n.outputTensors.map((t) => t.id));
  return dominates(graph.input.id, graph.output.id, successors, blocked);
}

/**
 * The graph analysis itself, for any data-flow graph (TF.js layers, ONNX nodes): true when every
 * path from `input` to `output` passes through `blocked`, i.e. the output is unreachable from the
 * input once `blocked` is removed. `successors(v)` lists the values computed from value v.
 */
export function dominates<K>(input: K, output: K, successors: (v: K) => Iterable<K>, blocked: K): boolean {
  const seen = new Set<K>([input]);
  const queue = [input];
  while (queue.length > 0) {
    const v = queue.pop()!;
    for (const out of successors(v)) {
      if (out === blocked || seen.has(out)) continue;
      if (out === output) return false;
      seen.add(out);
      queue.push(out);
    }
  }
  return true;
}

/** A shared layer applied twice would give two points the same name: number the later ones. */
function disambiguate(cuts: CutPoint[]): CutPoint[] {
  const count = new Map<string, number>();
  for (const c of cuts) {
    const n = count.get(c.layer) ?? 0;
    count.set(c.layer, n + 1);
    if (n > 0) c.layer = `${c.layer}@${n}`;
  }
  return cuts;
}

/** The nodes strictly after `cut` that the output depends on, in topological order (the cloud side). */
export function nodesAfter(graph: LayerGraph, cut: CutPoint): GraphNode[] {
  const after = new Set<number>([layerTensor(cut).id]);
  const out: GraphNode[] = [];
  for (const node of graph.nodes) {
    if (node.inputTensors.some((t) => after.has(t.id))) {
      out.push(node);
      for (const t of node.outputTensors) after.add(t.id);
    }
  }
  return out;
}

/** The crossing tensor of a point of a TF.js layers model. */
export function layerTensor(cut: CutPoint): tf.SymbolicTensor {
  if (!cut.tensor) throw new Error(`point '${cut.layer}' is not a point of a TF.js layers model`);
  return cut.tensor;
}

/**
 * Resolves what users type for --cuts (layer names or indices as dnn-cut prints them, comma
 * separated, or `all`) to points; returns the unknown entries separately for a clear error.
 */
export function selectCuts(cuts: CutPoint[], spec: string): { selected: CutPoint[]; unknown: string[] } {
  if (spec.trim() === 'all') return { selected: cuts, unknown: [] };
  const selected: CutPoint[] = [];
  const unknown: string[] = [];
  for (const raw of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const c = /^-?\d+$/.test(raw) ? cuts.find((p) => p.index === Number(raw)) : cuts.find((p) => p.layer === raw);
    if (!c) unknown.push(raw);
    else if (!selected.includes(c)) selected.push(c);
  }
  selected.sort((a, b) => cuts.indexOf(a) - cuts.indexOf(b));
  return { selected, unknown };
}

/**
 * selectCuts for a command's --cuts: an unknown entry or an empty selection is a UserError that
 * points to `dnn-cut NETWORK` (`networkArg`: the network as the user named it) for the list.
 */
export function selectCutsOrThrow(cuts: CutPoint[], spec: string, networkId: string, networkArg: string): CutPoint[] {
  const { selected, unknown } = selectCuts(cuts, spec);
  if (unknown.length > 0) {
    throw new UserError(`--cuts: ${unknown.join(', ')} ${unknown.length > 1 ? 'are not partition points' : 'is not a partition point'} of ${networkId}; \`dnn-cut ${networkArg}\` lists them (names or indices)`);
  }
  if (selected.length === 0) throw new UserError(`--cuts selects no partition point; use 'all' or names/indices from \`dnn-cut ${networkArg}\``);
  return selected;
}
