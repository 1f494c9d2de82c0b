import type * as tf from '@tensorflow/tfjs';

type SymbolicTensor = tf.SymbolicTensor;
type Layer = tf.layers.Layer;
/** tfjs's graph node: one application of a layer (not exported by tfjs under a public name). */
export type GraphNode = Layer['inboundNodes'][number];

/**
 * The computation graph of a model as the set of layer applications (nodes) that lie between its
 * input and its output, in a topological order. Only nodes the output depends on are included,
 * so branches that lead nowhere and applications added later (e.g. when building cloud halves,
 * which re-apply the same layers to a new input) never appear.
 */
export interface LayerGraph {
  input: SymbolicTensor;
  output: SymbolicTensor;
  /** nodes in topological order (inputs before consumers) */
  nodes: GraphNode[];
  /** tensor id -> nodes consuming it (within `nodes`) */
  consumers: Map<number, GraphNode[]>;
  /** tensor id -> the node that produced it */
  producer: Map<number, GraphNode>;
}

/** The node that produced a symbolic tensor. */
export function producerNode(t: SymbolicTensor): GraphNode {
  const node = t.sourceLayer.inboundNodes[t.nodeIndex];
  if (!node) throw new Error(`tensor ${t.name} has no producing node`);
  return node;
}

export function buildGraph(model: tf.LayersModel): LayerGraph {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new GraphShapeError(`the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; only single-input, single-output models can be partitioned`);
  }
  const input = model.inputs[0]!;
  const output = model.outputs[0]!;
  const nodes: GraphNode[] = [];
  const producer = new Map<number, GraphNode>();
  const consumers = new Map<number, GraphNode[]>();
  const state = new Map<GraphNode, 'visiting' | 'done'>();

  // Iterative post-order DFS from the output: a node is emitted after every node it depends on.
  const stack: { node: GraphNode; next: number }[] = [{ node: producerNode(output), next: 0 }];
  state.set(stack[0]!.node, 'visiting');
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    // An InputLayer's node lists its own output as its input: it is a source, not a consumer.
    const inputs = top.node.inboundLayers.length === 0 ? [] : top.node.inputTensors;
    if (top.next < inputs.length) {
      const t = inputs[top.next++]!;
      const p = producerNode(t);
      const s = state.get(p);
      if (s === undefined) {
        state.set(p, 'visiting');
        stack.push({ node: p, next: 0 });
      } else if (s === 'visiting') {
        throw new GraphShapeError(`the model graph has a cycle through layer '${p.outboundLayer.name}'`);
      }
      continue;
    }
    stack.pop();
    state.set(top.node, 'done');
    nodes.push(top.node);
    for (const t of top.node.outputTensors) producer.set(t.id, top.node);
    for (const t of inputs) {
      const list = consumers.get(t.id);
      if (list) {
        if (!list.includes(top.node)) list.push(top.node);
      } else consumers.set(t.id, [top.node]);
    }
  }
  if (!producer.has(input.id)) {
    throw new GraphShapeError(`the model output does not depend on its input '${input.name}'`);
  }
  return { input, output, nodes, consumers, producer };
}

/** A model whose graph the partitioner cannot handle (multi-input, cycles...). */
export class GraphShapeError extends Error {}
