/**
 * A camera frame: RGB bytes at the model's input size, as a camera configured for the model delivers
 * it (decoded and resized once, before anything is timed).
 */
export interface Frame {
  width: number;
  height: number;
  /** H*W*3 bytes, RGB, row-major HWC */
  rgb: Uint8Array;
  /** where it comes from: 'chelsea.png', 'chelsea.png#crop-tl-flip', 'random#3' */
  source: string;
}

export interface FrameSize {
  height: number;
  width: number;
}
