/**
 * The largest frame a cloud serving a network can legitimately receive: the largest INFER its
 * points take. Every request the queue holds, and every frame a connection is assembling, is at
 * most this, so the cloud's memory is bounded by it (docs/dnn-cloud.md#memory) rather than by the
 * protocol's 256 MiB default.
 */
import { tensorFrameBytes } from '../protocol/frame-size.js';
import type { CutPoint } from '../model/partition.js';

/** Room for control messages (HELLO, CONDITION): far above what they take. */
const MIN_FRAME = 64 * 1024;
/** An image file's own headers and metadata. */
const IMAGE_SLACK = 64 * 1024;
/** The lossless codecs' slack on incompressible bytes (lz4 n/255 + 16, zstd n/256 + a block, deflate and brotli less): n/128 + 1 KiB covers all. */
const losslessBound = (bytes: number): number => bytes + Math.ceil(bytes / 128) + 1024;

/** Elements of a point's tensor (batch 1). */
function elements(c: CutPoint): number {
  return c.shape.reduce((a, b) => a * b, 1);
}

/** Pixels of the input: its elements without the channel dim (first or last, 1 or 3). */
function pixels(input: CutPoint): number {
  const s = input.shape;
  const last = s[s.length - 1]!;
  const channels = last === 1 || last === 3 ? last : s[0] === 1 || s[0] === 3 ? s[0]! : 1;
  return elements(input) / channels;
}

/**
 * Bytes of the largest INFER (or RESULT) a network's cloud halves take: the largest crossing as float32, grown
 * by the lossless codecs' worst case (the other codecs send fewer bytes: f16 half, the int8 ones a
 * quarter plus int8-ch's 8 + 5 x channels parameter bytes); at the input point also a camera
 * frame, counted as its RGB pixels at 4 bytes a channel (a JPEG, PNG or WebP of a frame never
 * reaches that) plus 64 KiB of file headers. Never under 64 KiB.
 */
export function largestInferFrame(cuts: readonly CutPoint[]): number {
  let most = MIN_FRAME;
  // the output point too: no INFER names it, but the RESULTs the cloud sends are held to the same limit
  for (const c of cuts) {
    const f32 = 4 * elements(c);
    most = Math.max(most, tensorFrameBytes(losslessBound(f32)));
    if (c.kind === 'input') most = Math.max(most, tensorFrameBytes(pixels(c) * 3 * 4 + IMAGE_SLACK));
  }
  return most;
}
