import type { Codec } from '../codecs/index.js';
import type { HostTensor, SplitRunner } from '../engine/split-runner.js';
import { decodeFrame, encodeFrame, toTensor, type Convention, type Frame, type InputCodec } from '../inputs/index.js';
import type { Network } from '../model/network.js';
import type { CutPoint } from '../model/partition.js';
import { FidelityTally, type FidelityRecord } from './record.js';
import { measureTensorCodecs, type FidelityProgress } from './measure-tensors.js';

/** The codecs to measure: tensor codecs at inner points, input codecs (camera frame encodings) at the input point. */
export interface FidelityCodecs {
  inner: readonly Codec[];
  input: readonly InputCodec[];
}

/** Camera frames and how the network turns them into its input (src/inputs/). */
interface Camera {
  frames: readonly Frame[];
  convention: Convention;
}

/**
 * Fidelity of every (point, codec) pair of `cuts` over `frames`. Per point and frame the edge half
 * runs once, and every codec encodes, decodes and feeds the cloud half that same tensor; its
 * output is compared with the float32 output of the same split on the same frame (which is the
 * unsplit model's up to float rounding: measureTensorCodecs says why that and not a separate full
 * run). At the input point the codecs are input codecs: the edge encodes the camera frame, the
 * cloud decodes it and preprocesses (decode_ms covers both), against the f32 tensor of the same
 * frame (`f32` sends that tensor itself: exact). The edge-only point gives one `f32` record with
 * 0 bytes. Records come in the order of `cuts`, then of the codecs, each with `cut`.
 */
export function measureFidelity(
  runner: SplitRunner,
  network: Network,
  cuts: readonly CutPoint[],
  codecs: FidelityCodecs,
  frames: readonly Frame[],
  convention: Convention,
  onProgress?: (p: FidelityProgress) => void,
): Promise<FidelityRecord[]> {
  const shape = [1, ...network.inputShape];
  const tensors = frames.map((f) => ({ data: toTensor(f, convention), shape }));
  return measurePoints(runner, network, cuts, codecs, tensors, { frames, convention }, onProgress);
}

/**
 * The same on input tensors that are not camera frames (a network whose input is not an image,
 * on seeded random tensors): at the input point only `f32` can be measured.
 */
export function measureFidelityOnTensors(
  runner: SplitRunner,
  network: Network,
  cuts: readonly CutPoint[],
  inner: readonly Codec[],
  tensors: readonly HostTensor[],
  onProgress?: (p: FidelityProgress) => void,
): Promise<FidelityRecord[]> {
  return measurePoints(runner, network, cuts, { inner, input: [] }, tensors, undefined, onProgress);
}

async function measurePoints(
  runner: SplitRunner,
  network: Network,
  cuts: readonly CutPoint[],
  codecs: FidelityCodecs,
  tensors: readonly HostTensor[],
  camera: Camera | undefined,
  onProgress?: (p: FidelityProgress) => void,
): Promise<FidelityRecord[]> {
  if (tensors.length === 0) throw new RangeError('fidelity needs at least one input');
  const out: FidelityRecord[] = [];
  for (const [i, cut] of cuts.entries()) {
    const records =
      cut.kind === 'input'
        ? await measureInputCodecs(runner, cut, camera ? codecs.input : [], tensors, camera)
        : await measureTensorCodecs(runner, network, [cut], codecs.inner, tensors);
    out.push(...records);
    onProgress?.({ cut: cut.layer, done: i + 1, total: cuts.length });
  }
  return out;
}

/**
 * The input point: the reference is the cloud half (the whole model) on the frame's float32
 * tensor, which is also what `f32` sends (measured when `codecs` is empty too: all a camera-less
 * input can send); an image codec encodes the frame (encode_ms), and the cloud decodes and
 * preprocesses it (decode_ms) before its half runs.
 */
async function measureInputCodecs(
  runner: SplitRunner,
  cut: CutPoint,
  codecs: readonly InputCodec[],
  tensors: readonly HostTensor[],
  camera: Camera | undefined,
): Promise<FidelityRecord[]> {
  const labels = codecs.length > 0 ? codecs.map((c) => c.label) : ['f32'];
  const tallies = labels.map((label) => new FidelityTally(cut.layer, label, cut.bytes));
  for (let i = 0; i < tensors.length; i++) {
    const x = tensors[i]!;
    const ref = (await runner.cloud(cut, x)).value.data.slice();
    for (let c = 0; c < labels.length; c++) {
      const codec = codecs[c];
      if (!codec || codec.name === 'f32') {
        tallies[c]!.add({ bytes: cut.bytes, encodeMs: 0, decodeMs: 0 }, ref, ref);
        continue;
      }
      if (!camera) throw new RangeError(`input codec ${codec.label} needs camera frames`);
      const frame = camera.frames[i]!;
      const t0 = performance.now();
      const bytes = await encodeFrame(frame, codec);
      const t1 = performance.now();
      const decoded = await decodeFrame(bytes, codec, { height: frame.height, width: frame.width });
      const data = toTensor(decoded, camera.convention);
      const t2 = performance.now();
      const y = (await runner.cloud(cut, { data, shape: x.shape })).value.data;
      tallies[c]!.add({ bytes: bytes.byteLength, encodeMs: t1 - t0, decodeMs: t2 - t1 }, y, ref);
    }
  }
  return tallies.map((t) => t.record());
}
