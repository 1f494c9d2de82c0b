import type { LayersNetwork, Network } from './network.js';

/**
 * Rough multiply-accumulate count of each side of every partition point, for estimating how long
 * a cell takes (sharding, --dry-run). A layer with weights does about (its parameters per output
 * channel) MACs per output element (exact for dense and plain convolutions); a layer without
 * weights about one operation per output element. Good enough to rank points; not a FLOP counter.
 */
export function pointWork(n: Network): Map<string, { edgeMacs: number; cloudMacs: number }> {
  return n.source === 'onnx' ? byParams(n) : byLayers(n);
}

/** ONNX files: the share of the weights on each side, of about one MAC per weight (an estimate that ranks points). */
function byParams(n: Network): Map<string, { edgeMacs: number; cloudMacs: number }> {
  return new Map(n.cuts.map((c) => [c.layer, { edgeMacs: c.edgeParams, cloudMacs: Math.max(0, n.params - c.edgeParams) }]));
}

function byLayers(n: LayersNetwork): Map<string, { edgeMacs: number; cloudMacs: number }> {
  const perNode = n.graph.nodes.map((node) => {
    const layer = node.outboundLayer;
    const outElems = node.outputTensors.reduce((sum, t) => sum + t.shape.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1), 0);
    const shape = node.outputTensors[0]?.shape ?? [];
    const channels = (shape[shape.length - 1] as number | null) ?? 1;
    const params = layer.countParams();
    return params > 0 ? outElems * Math.max(1, params / channels) : outElems;
  });
  const total = perNode.reduce((a, b) => a + b, 0);
  // nodes are in topological order, so a point's edge side is every node up to its producer
  const done = new Map<string, number>();
  let sum = 0;
  n.graph.nodes.forEach((node, i) => {
    sum += perNode[i]!;
    done.set(node.outboundLayer.name, sum);
  });
  const out = new Map<string, { edgeMacs: number; cloudMacs: number }>();
  for (const c of n.cuts) {
    const edgeMacs = c.kind === 'input' ? 0 : (done.get(c.layer.replace(/:\d+$/, '')) ?? 0);
    out.set(c.layer, { edgeMacs, cloudMacs: Math.max(0, total - edgeMacs) });
  }
  return out;
}
