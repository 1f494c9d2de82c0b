/**
 * The exact bytes an INFER or RESULT frame takes on the wire (prefix, header, payload and padding;
 * not TCP/IP), for a tensor of `dims` with `bytesPerElement` bytes per element after its codec
 * (4 for raw float32). The cost model predicts transfer times from this.
 */
import { tensorFrameBytes } from './tensor-frame.js';
import { elementCount } from './tensor.js';

function payloadBytes(dims: readonly number[], bytesPerElement: number): number {
  const n = elementCount(dims);
  if (n < 0) throw new RangeError(`dims [${String(dims)}] are not a tensor shape the protocol carries (at most 8 integers in [0, 2^32))`);
  if (!(bytesPerElement > 0 && Number.isFinite(bytesPerElement))) throw new RangeError(`bytesPerElement ${bytesPerElement} is not a positive number`);
  return Math.ceil(n * bytesPerElement);
}

export function inferFrameBytes(dims: readonly number[], bytesPerElement?: number): number {
  return tensorFrameBytes(payloadBytes(dims, bytesPerElement ?? 4));
}

export function resultFrameBytes(dims: readonly number[], bytesPerElement?: number): number {
  return tensorFrameBytes(payloadBytes(dims, bytesPerElement ?? 4));
}
