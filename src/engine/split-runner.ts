import tf from '../tfjs.cjs';
import type { LayersNetwork, Network } from '../model/network.js';
import type { CutPoint } from '../model/partition.js';
import { activeBackend } from './backend.js';
import { buildHalves, middleSpan, runHalf, type Halves } from './halves.js';
import type { HostTensor, Timed } from './host-tensor.js';
import type { RunnerOptions, SplitRunner } from './runner.js';
import { OnnxSplitRunner } from './onnx-split-runner.js';
import { OnnxFileRunner } from './onnx-file-runner.js';
import { UserError } from '../errors.js';

export type { HostTensor, Timed } from './host-tensor.js';
export type { RunnerOptions, SplitRunner } from './runner.js';

/** The runner for the backend selectBackend() loaded. */
export function createSplitRunner(network: Network, opts: RunnerOptions = {}): SplitRunner {
  const backend = activeBackend();
  if (network.source === 'onnx') {
    if (backend?.name !== 'onnx') throw new UserError(`${network.id} is an ONNX model: it runs on the onnx backend only (--backend onnx, or auto)`);
    return new OnnxFileRunner(network, backend.threads ?? 1, opts);
  }
  if (backend?.name === 'onnx') return new OnnxSplitRunner(network, backend.threads ?? 1, opts);
  return new TfjsSplitRunner(network);
}

/**
 * TF.js backends (tensorflow, wasm, cpu). Halves are built on first use and kept: they share
 * the model's weights, so keeping them costs graph bookkeeping only.
 */
export class TfjsSplitRunner implements SplitRunner {
  private readonly halves = new Map<string, Halves>();
  /** middle spans by `from|to` (`|` never appears in a layer name) */
  private readonly middles = new Map<string, tf.LayersModel | null>();

  constructor(readonly network: LayersNetwork) {}

  private halvesOf(cut: CutPoint): Halves {
    let h = this.halves.get(cut.layer);
    if (!h) {
      h = buildHalves(this.network.model, this.network.graph, cut);
      this.halves.set(cut.layer, h);
    }
    return h;
  }

  edge(cut: CutPoint, input: HostTensor): Promise<Timed<HostTensor>> {
    return Promise.resolve(this.run(this.halvesOf(cut).edge, input));
  }

  cloud(cut: CutPoint, x: HostTensor): Promise<Timed<HostTensor>> {
    return Promise.resolve(this.run(this.halvesOf(cut).cloud, x, true));
  }

  middle(from: CutPoint, to: CutPoint, x: HostTensor): Promise<Timed<HostTensor>> {
    const key = `${from.layer}|${to.layer}`;
    let span = this.middles.get(key);
    if (span === undefined) {
      span = middleSpan(this.network.model, this.network.graph, from, to);
      this.middles.set(key, span);
    }
    return Promise.resolve(this.run(span, x, true));
  }

  full(input: HostTensor): Promise<Timed<HostTensor>> {
    return Promise.resolve(this.run(this.network.model, input));
  }

  /** `uploadTimed`: the cloud's time includes making a tensor of what it received */
  private run(half: tf.LayersModel | null, x: HostTensor, uploadTimed = false): Timed<HostTensor> {
    let t0 = performance.now();
    const input = tf.tensor(x.data, x.shape, 'float32');
    if (!uploadTimed) t0 = performance.now();
    const out = runHalf(half, input);
    const data = out.dataSync() as Float32Array;
    const ms = performance.now() - t0;
    const shape = out.shape;
    tf.dispose([input, out]);
    return { value: { data, shape }, ms };
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The benchmark input: a deterministic pseudo-image in [0, 1) of the given shape, batch 1 (the
 * published tool used one JPEG; values do not change the work an untrained network does, but a
 * fixed input makes runs comparable and outputs checkable). The same values on every backend.
 */
export function benchmarkInput(shape: number[], seed: number): HostTensor {
  const t = tf.randomUniform([1, ...shape], 0, 1, 'float32', seed);
  const data = t.dataSync() as Float32Array;
  t.dispose();
  return { data, shape: [1, ...shape] };
}
