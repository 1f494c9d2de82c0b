import { loadNetwork } from '../../src/engine/load-network.js';
import { benchmarkInput, createSplitRunner } from '../../src/engine/split-runner.js';
import { disposeNetwork } from '../../src/model/network.js';

/** A real crossing tensor: what the edge half of `network` outputs at partition point `layer`. */
export interface Activation {
  network: string;
  layer: string;
  dims: number[];
  values: Float32Array;
}

/**
 * The edge half's outputs at partition points of a zoo network, on the seeded benchmark input:
 * `points` of them spread evenly over its cuts (the input point excluded, the last included), or
 * the named layers.
 */
export async function activations(spec: string, points: number | string[], inputShape?: number[]): Promise<Activation[]> {
  const network = await loadNetwork(spec, inputShape ? { seed: 1, inputShape } : { seed: 1 });
  const runner = createSplitRunner(network);
  try {
    const input = benchmarkInput(network.inputShape, network.seed);
    const inner = network.cuts.filter((c) => c.index > 0);
    const picked = new Set<number>();
    if (Array.isArray(points)) {
      for (const layer of points) {
        const k = inner.findIndex((c) => c.layer === layer);
        if (k < 0) throw new Error(`${spec} has no partition point '${layer}'`);
        picked.add(k);
      }
    } else {
      for (let i = 1; i <= points; i++) picked.add(Math.min(inner.length - 1, Math.round((i * inner.length) / points) - 1));
    }
    const out: Activation[] = [];
    for (const k of [...picked].sort((a, b) => a - b)) {
      const cut = inner[k]!;
      const r = await runner.edge(cut, input);
      out.push({ network: spec, layer: cut.layer, dims: r.value.shape, values: r.value.data });
    }
    return out;
  } finally {
    await runner.dispose();
    disposeNetwork(network);
  }
}
