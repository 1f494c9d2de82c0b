import type { Codec, EncodeOptions } from '../codecs/index.js';
import type { HostTensor, SplitRunner } from '../engine/split-runner.js';
import type { Network } from '../model/network.js';
import type { CutPoint } from '../model/partition.js';
import { FidelityTally, type FidelityRecord } from './record.js';

/** After each point: how many of the points are done. */
export interface FidelityProgress {
  cut: string;
  done: number;
  total: number;
}

/**
 * int8-ch's channel axis for a crossing tensor (batch included): ONNX files keep their own layout
 * (NCHW, channels at 1); TF.js/Keras networks, and the zoo on ONNX Runtime, run NHWC (channels last).
 */
export function encodeOptionsFor(network: Network, dims: readonly number[]): EncodeOptions {
  return { channelAxis: network.source === 'onnx' && dims.length > 2 ? 1 : Math.max(dims.length - 1, 0) };
}

/**
 * Fidelity of tensor codecs at inner points and of the edge-only point: per point and input the
 * edge half runs once; the cloud half runs on its float32 tensor (the reference output: the
 * split computing the unsplit model, see below) and, for every codec, on the tensor encoded and
 * decoded. The reference is the split's own float32 output rather than a separate run of the full
 * model: a split reproduces the full model up to float rounding (dnn-cut --verify: 0 on TF.js,
 * up to ~1e-7 relative on ONNX Runtime, whose kernels depend on neighbouring nodes), and that
 * rounding is not the codec's doing, so a lossless codec shows exactly 0. The edge-only point
 * sends nothing: one `f32` record, 0 bytes, exact. Input points are not handled here (their
 * codecs encode camera frames: measureFidelity).
 */
export async function measureTensorCodecs(
  runner: SplitRunner,
  network: Network,
  cuts: readonly CutPoint[],
  codecs: readonly Codec[],
  inputs: readonly HostTensor[],
): Promise<FidelityRecord[]> {
  const out: FidelityRecord[] = [];
  for (const cut of cuts) {
    if (cut.kind === 'input') throw new RangeError(`measureTensorCodecs: '${cut.layer}' is the input point; its codecs encode frames`);
    if (cut.kind === 'output') {
      out.push(edgeOnlyRecord(cut, inputs.length));
      continue;
    }
    const tallies = codecs.map((c) => new FidelityTally(cut.layer, c.name, cut.bytes));
    for (const x of inputs) {
      const mid = (await runner.edge(cut, x)).value;
      // a copy: a runner may hand out views on buffers it reuses
      const ref = (await runner.cloud(cut, mid)).value.data.slice();
      const options = encodeOptionsFor(network, mid.shape);
      for (let c = 0; c < codecs.length; c++) {
        const codec = codecs[c]!;
        const t0 = performance.now();
        const encoded = codec.encode(mid.data, mid.shape, options);
        const t1 = performance.now();
        const data = codec.decode(encoded, mid.shape);
        const t2 = performance.now();
        const y = (await runner.cloud(cut, { data, shape: mid.shape })).value.data;
        tallies[c]!.add({ bytes: encoded.payload.byteLength + encoded.params.byteLength, encodeMs: t1 - t0, decodeMs: t2 - t1 }, y, ref);
      }
    }
    out.push(...tallies.map((t) => t.record()));
  }
  return out;
}

/** The edge-only point: nothing crosses, the edge computes the model's output itself. */
function edgeOnlyRecord(cut: CutPoint, inputs: number): FidelityRecord {
  return { cut: cut.layer, codec: 'f32', bytes: 0, ratio: 1, encode_ms: 0, decode_ms: 0, max_abs_diff: 0, rel_l2: 0, top1_agreement: 1, top5_agreement: 1, inputs };
}
