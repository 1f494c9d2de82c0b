import * as tf from '@tensorflow/tfjs';
import type { LayersNetwork, Network } from '../model/network.js';
import type { CutPoint } from '../model/partition.js';
import { buildHalves, runHalf, type Halves } from './halves.js';

/** A materialised tensor: what crosses the network. */
export interface HostTensor {
  data: Float32Array;
  /** shape including the batch dimension */
  shape: number[];
}

export interface Timed<T> {
  value: T;
  /** wall time in milliseconds (performance.now resolution) */
  ms: number;
}

/**
 * Runs the edge and cloud halves of a network's partition points. Halves are built on first use
 * and kept: they share the model's weights, so keeping them costs graph bookkeeping only.
 */
export class SplitRunner {
  private readonly halves = new Map<string, Halves>();

  private readonly layers: LayersNetwork;

  constructor(readonly network: Network) {
    if (network.source === 'onnx') throw new Error('ONNX models run on the onnx backend');
    this.layers = network;
  }

  private halvesOf(cut: CutPoint): Halves {
    let h = this.halves.get(cut.layer);
    if (!h) {
      h = buildHalves(this.layers.model, this.layers.graph, cut);
      this.halves.set(cut.layer, h);
    }
    return h;
  }

  /** Edge half on the input, including reading the crossing tensor back to host memory. */
  edge(cut: CutPoint, input: tf.Tensor): Timed<HostTensor> {
    const half = this.halvesOf(cut).edge;
    const t0 = performance.now();
    const out = runHalf(half, input);
    const data = out.dataSync() as Float32Array;
    const ms = performance.now() - t0;
    const shape = out.shape;
    out.dispose();
    return { value: { data, shape }, ms };
  }

  /** Cloud half on a received tensor, including reading the output back to host memory. */
  cloud(cut: CutPoint, x: HostTensor): Timed<HostTensor> {
    const half = this.halvesOf(cut).cloud;
    const t0 = performance.now();
    const input = tf.tensor(x.data, x.shape, 'float32');
    const out = runHalf(half, input);
    const data = out.dataSync() as Float32Array;
    const ms = performance.now() - t0;
    const shape = out.shape;
    tf.dispose([input, out]);
    return { value: { data, shape }, ms };
  }

  /** The full model, for reference timings. */
  full(input: tf.Tensor): Timed<HostTensor> {
    const t0 = performance.now();
    const out = runHalf(this.layers.model, input);
    const data = out.dataSync() as Float32Array;
    const ms = performance.now() - t0;
    const shape = out.shape;
    out.dispose();
    return { value: { data, shape }, ms };
  }
}

/**
 * The benchmark input: a deterministic pseudo-image in [0, 1) of the model's input shape,
 * batch 1 (the published tool used one JPEG; values do not change the work an untrained
 * network does, but a fixed input makes runs comparable and outputs checkable).
 */
export function benchmarkInput(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform([1, ...shape], 0, 1, 'float32', seed);
}
