import { dominates } from '../partition.js';
import type { GraphProto, NodeProto } from './onnx-codec.js';

/**
 * The data-flow view of an ONNX graph that partitioning needs: which node produces each value,
 * which values the graph input reaches, and the candidates for partition points. Weights
 * (initializers) and constants (Constant nodes, and anything computed from them alone) are not
 * reached from the input, so they carry no path: a point is a value that every path from the
 * input to the output passes through.
 */
export interface OnnxFlow {
  input: string;
  output: string;
  /** value name -> position of its producing node in graph.node */
  producer: Map<string, number>;
  /** value name -> positions of the nodes reading it (subgraph references included) */
  consumers: Map<string, number[]>;
  /** values computed from the input (the input included) */
  live: Set<string>;
}

/**
 * The values a node reads: its inputs, plus the outer-scope values its subgraphs (If/Loop/Scan
 * bodies) refer to, which ONNX lets them use without listing them.
 */
export function nodeReads(node: NodeProto): string[] {
  const reads = node.input.filter((n) => n !== '');
  for (const a of node.attribute) {
    for (const g of [...(a.g ? [a.g] : []), ...a.graphs]) reads.push(...outerReads(g));
  }
  return reads;
}

function outerReads(g: GraphProto): string[] {
  const defined = new Set<string>([...g.input.map((v) => v.name), ...g.initializer.map((t) => t.name)]);
  const reads: string[] = [];
  for (const n of g.node) {
    for (const r of nodeReads(n)) if (!defined.has(r)) reads.push(r);
    for (const o of n.output) defined.add(o);
  }
  return reads;
}

export function buildFlow(graph: GraphProto, input: string, output: string): OnnxFlow {
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  graph.node.forEach((node, i) => {
    for (const r of new Set(nodeReads(node))) {
      const list = consumers.get(r);
      if (list) list.push(i);
      else consumers.set(r, [i]);
    }
    for (const o of node.output) if (o !== '') producer.set(o, i);
  });
  const flow: OnnxFlow = { input, output, producer, consumers, live: new Set([input]) };
  const queue = [input];
  while (queue.length > 0) {
    for (const out of successors(flow, graph, queue.pop()!)) {
      if (!flow.live.has(out)) {
        flow.live.add(out);
        queue.push(out);
      }
    }
  }
  return flow;
}

function successors(flow: OnnxFlow, graph: GraphProto, v: string): string[] {
  return (flow.consumers.get(v) ?? []).flatMap((i) => graph.node[i]!.output.filter((o) => o !== ''));
}

/**
 * Values every input-to-output path passes through, in node order: the graph input first, the
 * graph output last (when the output depends on the input at all).
 */
export function dominatingValues(flow: OnnxFlow, graph: GraphProto): string[] {
  const points = [flow.input];
  const succ = (v: string) => successors(flow, graph, v);
  for (const node of graph.node) {
    for (const o of node.output) {
      if (!flow.live.has(o) || o === flow.input) continue;
      if (o === flow.output || dominates(flow.input, flow.output, succ, o)) points.push(o);
    }
  }
  return points;
}

/**
 * Positions (ascending) of the nodes needed to compute `targets` when `stops` are given:
 * a backward walk from the targets that does not go past a stop value.
 */
export function nodesFor(flow: OnnxFlow, graph: GraphProto, targets: string[], stops: Set<string>): number[] {
  const need = new Set<number>();
  const seen = new Set<string>();
  const stack = targets.filter((t) => !stops.has(t));
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    const p = flow.producer.get(v);
    if (p === undefined || need.has(p)) continue; // graph input or initializer
    need.add(p);
    for (const r of nodeReads(graph.node[p]!)) if (!stops.has(r)) stack.push(r);
  }
  return [...need].sort((a, b) => a - b);
}
