import { FRAME_ALIGN, PREFIX_BYTES, alignUp } from './constants.js';

/**
 * Exact total bytes of the frames of the measurement loop, prefix and padding included, for a tensor
 * of `dims` (what the cost model counts on the wire). Protocol v1 writes a msgpack header whose size
 * depends on the cut's name and the id: this takes it as HEADER_ESTIMATE_BYTES (type, id, cut name,
 * one tensor descriptor: ~100 bytes), the figure the cost model always used.
 */
const HEADER_ESTIMATE_BYTES = 112;

function frameBytes(dims: readonly number[], bytesPerElement: number): number {
  const tensorBytes = dims.reduce((a, d) => a * d, 1) * bytesPerElement;
  return alignUp(alignUp(PREFIX_BYTES + HEADER_ESTIMATE_BYTES, FRAME_ALIGN) + tensorBytes, FRAME_ALIGN);
}

/** Total bytes of an INFER frame carrying a tensor of `dims` (elements of `bytesPerElement` bytes: float32 by default). */
export function inferFrameBytes(dims: readonly number[], bytesPerElement = 4): number {
  return frameBytes(dims, bytesPerElement);
}

/** Total bytes of a RESULT frame carrying a tensor of `dims`. */
export function resultFrameBytes(dims: readonly number[], bytesPerElement = 4): number {
  return frameBytes(dims, bytesPerElement);
}
