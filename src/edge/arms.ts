import { f32Codec } from '../codecs/f32.js';
import type { Codec, EncodeOptions } from '../codecs/types.js';
import type { CodecId } from '../protocol/codecs.js';
import type { CutPoint } from '../model/partition.js';
import { UserError } from '../errors.js';
import { encodeFrame, type Frame, type InputCodec, type Layout } from '../inputs/index.js';

export type { Frame };

/**
 * What crosses the wire at a point and how it is encoded. An arm is a (point, wire codec) pair:
 * the unit the sweep measures, one results cell per condition. At inner points the crossing is
 * a tensor and its codec one of src/codecs/; at the input point it is either the model input
 * as a tensor (raw f32, or a tensor codec) or the camera's frame (an image codec: u8, jpeg, png,
 * webp), which the cloud decodes and preprocesses itself.
 */

/** A tensor codec, with how this network lays out its channels (int8-ch). */
export interface TensorWireCodec {
  kind: 'tensor';
  /** as the results tags name it: the codec's name */
  label: string;
  codec: Codec;
  options: EncodeOptions;
}

/** An image codec at the input point: the frame as the camera delivers it, encoded. */
export interface ImageWireCodec {
  kind: 'image';
  /** as the results tags name it: u8, jpeg:90, png, webp:80 */
  label: string;
  id: CodecId;
  /** the --input-codec it comes from */
  source: InputCodec;
  /** the frame's bytes as sent (sharp/libvips for jpeg, png, webp; u8 the frame itself) */
  encode(frame: Frame): Promise<Uint8Array>;
}

export type WireCodec = TensorWireCodec | ImageWireCodec;

export interface Arm {
  cut: CutPoint;
  codec: WireCodec;
}

/** The raw float32 crossing: the only arm of the edge-only point, and today's behaviour everywhere. */
export const F32_WIRE: TensorWireCodec = { kind: 'tensor', label: 'f32', codec: f32Codec, options: {} };

export function tensorWire(codec: Codec, layout: Layout): TensorWireCodec {
  // int8-ch quantises per channel: channels last in NHWC (TF.js, Keras), at axis 1 in NCHW (ONNX)
  return { kind: 'tensor', label: codec.name, codec, options: layout === 'nchw' ? { channelAxis: 1 } : {} };
}

/** An --input-codec: f32 is the preprocessed tensor sent raw; the others encode the camera's frame. */
export function inputWire(codec: InputCodec): WireCodec {
  if (codec.name === 'f32') return F32_WIRE;
  return { kind: 'image', label: codec.label, id: codec.id, source: codec, encode: (frame) => encodeFrame(frame, codec) };
}

export function isF32(codec: WireCodec): boolean {
  return codec.kind === 'tensor' && codec.codec === f32Codec;
}

/**
 * Every arm of `cuts`, point by point in their order: the input point with each input codec, each
 * inner point with each tensor codec, the edge-only point once (f32: nothing is encoded there).
 * With f32 alone the arms are the points, in the same order as before codecs existed.
 */
export function armsOf(cuts: readonly CutPoint[], inputCodecs: readonly WireCodec[], innerCodecs: readonly WireCodec[]): Arm[] {
  if (inputCodecs.length === 0 || innerCodecs.length === 0) throw new Error('bug: an arm list needs at least one codec per kind of point');
  return cuts.flatMap((cut) => {
    const codecs = cut.kind === 'output' ? [F32_WIRE] : cut.kind === 'input' ? inputCodecs : innerCodecs;
    return codecs.map((codec) => ({ cut, codec }));
  });
}

/** The arm's label in messages and analysis: the point, and its codec when not f32 (`CUT@CODEC`). */
export function armName(arm: Arm): string {
  return isF32(arm.codec) ? arm.cut.layer : `${arm.cut.layer}@${arm.codec.label}`;
}

/** True when some arm is encoded: the run then records encode, decode and bytes in every cell. */
export function hasEncodedArms(arms: readonly Arm[]): boolean {
  return arms.some((a) => !isF32(a.codec));
}

/** An image codec needs camera frames: refused with random inputs, before anything starts. */
export function checkArmsInputs(arms: readonly Arm[], images: boolean): void {
  const image = arms.find((a) => a.codec.kind === 'image');
  if (image && !images) {
    throw new UserError(`--input-codec ${image.codec.label} encodes camera frames: it needs image inputs (--inputs PATH..., or the default photographs), not --inputs random`);
  }
}
