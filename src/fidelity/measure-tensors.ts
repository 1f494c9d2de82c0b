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

/** The unsplit float32 model's output on every input: what every codec is compared with. */
export async function referenceOutputs(runner: SplitRunner, inputs: readonly HostTensor[]): Promise<Float32Array[]> {
  const refs: Float32Array[] = [];
  // a copy: a runner may hand out views on buffers it reuses
  for (const x of inputs) refs.push((await runner.full(x)).value.data.slice());
  return refs;
}

/**
 * int8-ch's channel axis for a crossing tensor (batch included): ONNX files keep their own layout
 * (NCHW, channels at 1); TF.js/Keras networks, and the zoo on ONNX Runtime, run NHWC (channels last).
 */
export function encodeOptionsFor(network: Network, dims: readonly number[]): EncodeOptions {
  return { channelAxis: network.source === 'onnx' && dims.length > 2 ? 1 : Math.max(dims.length - 1, 0) };
}

/**
 * Fidelity of tensor codecs at inner points and of the edge-only point (one `f32` record, 0 bytes):
 * per point the edge half runs once per input and its tensor is reused by every codec, which
 * encodes it, decodes it, and hands the result to the cloud half; the output is compared with
 * `refs` (referenceOutputs on the same inputs). Input points are not handled here (their codecs
 * encode camera frames: measureFidelity).
 */
export async function measureTensorCodecs(
  runner: SplitRunner,
  network: Network,
  cuts: readonly CutPoint[],
  codecs: readonly Codec[],
  inputs: readonly HostTensor[],
  refs: readonly Float32Array[],
): Promise<FidelityRecord[]> {
  const out: FidelityRecord[] = [];
  for (const cut of cuts) {
    if (cut.kind === 'input') throw new RangeError(`measureTensorCodecs: '${cut.layer}' is the input point; its codecs encode frames`);
    const tallies = cut.kind === 'output' ? [new FidelityTally(cut.layer, 'f32', 0)] : codecs.map((c) => new FidelityTally(cut.layer, c.name, cut.bytes));
    for (let i = 0; i < inputs.length; i++) {
      const mid = (await runner.edge(cut, inputs[i]!)).value;
      if (cut.kind === 'output') {
        // edge-only: the edge half is the whole model and nothing crosses
        tallies[0]!.add({ bytes: 0, encodeMs: 0, decodeMs: 0 }, mid.data, refs[i]!);
        continue;
      }
      const options = encodeOptionsFor(network, mid.shape);
      for (let c = 0; c < codecs.length; c++) {
        const codec = codecs[c]!;
        const t0 = performance.now();
        const encoded = codec.encode(mid.data, mid.shape, options);
        const t1 = performance.now();
        const data = codec.decode(encoded, mid.shape);
        const t2 = performance.now();
        const y = (await runner.cloud(cut, { data, shape: mid.shape })).value.data;
        tallies[c]!.add({ bytes: encoded.payload.byteLength + encoded.params.byteLength, encodeMs: t1 - t0, decodeMs: t2 - t1 }, y, refs[i]!);
      }
    }
    out.push(...tallies.map((t) => t.record()));
  }
  return out;
}
