import type { HostTensor } from '../engine/split-runner.js';
import { decodeFrame, loadSharp, toTensor, type Convention, type PreprocessMode } from '../inputs/index.js';
import { CODEC_IDS } from '../protocol/codecs.js';
import type { PreprocessSpec } from '../protocol/messages.js';

/** Image codecs (ids 9-12): the payload is the camera's frame, not a tensor. */
export function isImageCodec(id: number): boolean {
  return id === CODEC_IDS.u8 || id === CODEC_IDS.jpeg || id === CODEC_IDS.png || id === CODEC_IDS.webp;
}

/**
 * Loads the frames' decoder (sharp) ahead of the first frame, whose decode time is measured; a
 * failure to load surfaces in that decode (BAD_TENSOR).
 */
export function preloadImageDecoder(): void {
  loadSharp().catch(() => {});
}

/**
 * A camera frame's bytes -> the model input of `dims` (batch first: [1, H, W, C] in NHWC, [1, C, H, W]
 * in NCHW): decoded (sharp; u8 as it is), then preprocessed as the edge announced in its HELLO. A
 * frame of another size than the dims, or dims that are no image, is a RangeError.
 */
export async function imageToTensor(id: number, payload: Uint8Array, dims: readonly number[], preprocess: PreprocessSpec): Promise<HostTensor> {
  const nhwc = preprocess.layout === 'nhwc';
  const [, a, b, c] = dims;
  const [height, width, channels] = nhwc ? [a, b, c] : [b, c, a];
  if (dims.length !== 4 || dims[0] !== 1 || !(channels === 1 || channels === 3)) {
    throw new RangeError(`dims [${String(dims)}] are not a batch-1 image input in ${preprocess.layout}`);
  }
  const frame = await decodeFrame(payload, id as Parameters<typeof decodeFrame>[1], { width: width!, height: height! });
  const convention: Convention = { mode: preprocess.mode as PreprocessMode, layout: preprocess.layout, channels: channels!, why: 'the edge\'s HELLO' };
  return { data: toTensor(frame, convention), shape: [...dims] };
}
