import { benchmarkInput } from '../engine/split-runner.js';
import type { Network } from '../model/network.js';
import type { PreprocessSpec } from '../protocol/messages.js';
import type { InputsMeta } from '../inputs/index.js';
import { UserError } from '../errors.js';
import { conventionOf, frameSize, inputsMeta, loadFrames, parseInputs, toTensor, type Convention, type Frame, type PreprocessMode } from '../inputs/index.js';
import type { SampleInput } from './measure.js';

/** What a run feeds its network, as the sweep, the HELLO and the metadata need it. */
export interface RunInputs {
  /** the inputs samples cycle through */
  samples: SampleInput[];
  /** camera frames (images, or none: the seeded random input) */
  images: boolean;
  /** for the metadata; undefined for the seeded random input (as before inputs existed) */
  meta?: InputsMeta;
  /** for the HELLO: how the cloud preprocesses a frame sent with an image codec */
  preprocess?: PreprocessSpec;
  /** the camera: its frames and the convention that makes model inputs of them (fidelity runs on them too) */
  camera?: { frames: Frame[]; convention: Convention };
}

/**
 * The run's inputs: the photographs (--inputs, default the shipped ones) as camera frames at the
 * model's input size (decoded and resized once, untimed), each preprocessed per sample with the
 * network's convention (or --preprocess); or, with --inputs random, the seeded random input tensor of
 * earlier releases (nothing to preprocess, so f32 runs time exactly what they timed before). A
 * network whose input is not an image falls back to the random input when --inputs was not given.
 */
export async function prepareInputs(o: { inputs?: string[]; preprocess?: PreprocessMode; log: (line: string) => void }, network: Network): Promise<RunInputs> {
  const random: RunInputs = { samples: [{ tensor: benchmarkInput(network.inputShape, network.seed) }], images: false };
  const spec = parseInputs(o.inputs);
  if (spec.kind === 'random') return random;
  let convention;
  try {
    convention = conventionOf(network, o.preprocess);
  } catch (e) {
    if (!(e instanceof UserError) || o.inputs !== undefined) throw e;
    o.log(`note: ${network.id}'s input is not an image: measuring with the seeded random input (--inputs random)`);
    return random;
  }
  const frames = await loadFrames(spec, frameSize(network));
  const shape = [1, ...network.inputShape];
  // one buffer for every sample: a sample's tensor is sent and answered before the next is made
  const out = new Float32Array(network.inputShape.reduce((a, b) => a * b, 1));
  const preprocess = (frame: SampleInput['frame'] & object) => ({ data: toTensor(frame, convention, out), shape });
  o.log(`inputs: ${frames.length} camera frames from ${spec.paths.length} image file(s), preprocessed per sample: ${convention.why}, ${convention.layout}`);
  return {
    samples: frames.map((frame) => ({ frame, preprocess })),
    images: true,
    meta: inputsMeta(spec, frames, convention),
    preprocess: { mode: convention.mode, layout: convention.layout },
    camera: { frames, convention },
  };
}
