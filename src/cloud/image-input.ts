import type { HostTensor } from '../engine/split-runner.js';
import { CODEC_IDS } from '../protocol/codecs.js';
import type { PreprocessSpec } from '../protocol/messages.js';

/** Image codecs (ids 9-12): the payload is the camera's frame, not a tensor. */
export function isImageCodec(id: number): boolean {
  return id === CODEC_IDS.u8 || id === CODEC_IDS.jpeg || id === CODEC_IDS.png || id === CODEC_IDS.webp;
}

/** A camera frame's bytes -> the model input of `dims` (batch first), decoded then preprocessed. */
export function imageToTensor(id: number, payload: Uint8Array, dims: readonly number[], preprocess: PreprocessSpec): HostTensor {
  void id;
  void payload;
  void preprocess;
  throw new Error(`image codecs need src/inputs/ (not merged yet); dims [${String(dims)}]`);
}
