import { endianness } from 'node:os';
import { MAX_TENSOR_DIMS } from './constants.js';

/** A dense float32 tensor: `data.length` equals the product of `shape` (1 for a scalar shape []). */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** Largest dim the wire carries (a u32). */
export const MAX_DIM = 0xffffffff;

/** The wire is little-endian; on a big-endian host payloads are copied and swapped (never in practice). */
export const HOST_IS_LE = endianness() === 'LE';

export function tensor(shape: number[], data?: Float32Array): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = data ?? new Float32Array(n);
  if (d.length !== n) throw new RangeError(`tensor data has ${d.length} elements, shape [${shape}] needs ${n}`);
  return { shape, data: d };
}

/** Bytes of a tensor as they go on the wire: a view on the tensor's own memory (copied only on a BE host). */
export function payloadBytes(t: Tensor): Buffer {
  const view = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return HOST_IS_LE ? view : Buffer.from(view).swap32();
}

/**
 * Elements of `shape` (at most MAX_TENSOR_DIMS integers in [0, MAX_DIM]), or -1 when it is not such
 * a list or the product passes 2^53 (no float rounding can make an absurd shape look valid).
 * A plain loop: it runs for every message sent.
 */
export function elementCount(shape: unknown): number {
  if (!Array.isArray(shape) || shape.length > MAX_TENSOR_DIMS) return -1;
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > MAX_DIM) return -1;
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) return -1;
  }
  return n;
}

/** Sender-side check so a bad tensor fails at the caller, not at the peer. */
export function checkOutgoing(t: Tensor): void {
  if (!(t.data instanceof Float32Array)) throw new TypeError('tensor data must be a Float32Array');
  if (elementCount(t.shape) !== t.data.length) {
    throw new RangeError(`tensor shape [${String(t.shape)}] does not match its ${t.data.length} elements (at most ${MAX_TENSOR_DIMS} dims, each an integer in [0, 2^32))`);
  }
}

/**
 * The tensor of `n` floats at buf[at..] (already checked to lie in its frame): a view on `buf` when
 * 4-byte aligned in memory, else a copy, with `onCopy` called.
 */
export function payloadTensor(shape: number[], n: number, buf: Buffer, at: number, onCopy: () => void): Tensor {
  if (n === 0) return { shape, data: new Float32Array(0) };
  const memAt = buf.byteOffset + at;
  if (HOST_IS_LE && memAt % 4 === 0) return { shape, data: new Float32Array(buf.buffer, memAt, n) };
  onCopy();
  const data = new Float32Array(n);
  new Uint8Array(data.buffer).set(buf.subarray(at, at + n * 4));
  if (!HOST_IS_LE) Buffer.from(data.buffer).swap32();
  return { shape, data };
}
