/**
 * The exact bytes an INFER or RESULT frame takes on the wire (prefix, header, payload and padding;
 * not TCP/IP), for a tensor of `dims` with `bytesPerElement` bytes per element after its codec
 * (4 for raw float32, 2 for f16, 1 for int8 and the camera's u8 frame) and the codec's own
 * `paramsBytes` after the fixed header (int8-ch: 8 + 5 x channels). The cost model predicts transfer
 * times from this; an entropy-coded payload (lz4, jpeg...) has no size per element: size its frame
 * from the payload's measured bytes with `tensorFrameBytes`.
 */
import { tensorFrameBytes } from './tensor-frame.js';
import { elementCount } from './tensor.js';

export { tensorFrameBytes };

function payloadBytes(dims: readonly number[], bytesPerElement: number): number {
  const n = elementCount(dims);
  if (n < 0) throw new RangeError(`dims [${String(dims)}] are not a tensor shape the protocol carries (at most 8 integers in [0, 2^32))`);
  if (!(bytesPerElement > 0 && Number.isFinite(bytesPerElement))) throw new RangeError(`bytesPerElement ${bytesPerElement} is not a positive number`);
  return Math.ceil(n * bytesPerElement);
}

function checkParams(paramsBytes: number): number {
  if (!(Number.isInteger(paramsBytes) && paramsBytes >= 0)) throw new RangeError(`paramsBytes ${paramsBytes} is not a byte count`);
  return paramsBytes;
}

export function inferFrameBytes(dims: readonly number[], bytesPerElement?: number, paramsBytes = 0): number {
  return tensorFrameBytes(payloadBytes(dims, bytesPerElement ?? 4), checkParams(paramsBytes));
}

export function resultFrameBytes(dims: readonly number[], bytesPerElement?: number, paramsBytes = 0): number {
  return tensorFrameBytes(payloadBytes(dims, bytesPerElement ?? 4), checkParams(paramsBytes));
}
