import { endianness } from 'node:os';
import { MAX_TENSOR_DIMS } from './constants.js';
import { ProtocolError } from './errors.js';

/** A dense float32 tensor: `data.length` equals the product of `shape` (1 for a scalar shape []). */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** How a payload is described in the msgpack header. `offset` is relative to the frame start. */
export interface TensorDescriptor {
  dtype: 'float32';
  shape: number[];
  byteLength: number;
  offset: number;
}

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

/** Sender-side check so a bad tensor fails at the caller, not at the peer. */
export function checkOutgoing(t: Tensor): void {
  if (!(t.data instanceof Float32Array)) throw new TypeError('tensor data must be a Float32Array');
  if (!isValidShape(t.shape) || elementCount(t.shape) !== t.data.length) {
    throw new RangeError(`tensor shape [${String(t.shape)}] does not match its ${t.data.length} elements`);
  }
}

function isValidShape(shape: unknown): shape is number[] {
  if (!Array.isArray(shape) || shape.length > MAX_TENSOR_DIMS) return false;
  for (const d of shape) if (!Number.isSafeInteger(d) || d < 0) return false;
  return true;
}

/** Product of dims, or -1 once it passes 2^53 (no float rounding can make an absurd shape look valid). */
function elementCount(shape: number[]): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) return -1;
  }
  return n;
}

/**
 * Validates one header descriptor against the frame it came with, buf[frameAt..frameAt+frameLength),
 * and returns the tensor. The data is a view on `buf` when the payload is 4-byte aligned in memory;
 * otherwise it is copied and `onCopy` is called so callers can count copies.
 */
export function readTensor(desc: unknown, buf: Buffer, frameAt: number, frameLength: number, payloadStart: number, onCopy: () => void): Tensor {
  if (typeof desc !== 'object' || desc === null) throw bad('descriptor is not a map');
  const { dtype, shape, byteLength, offset } = desc as Record<string, unknown>;
  if (dtype !== 'float32') throw bad(`dtype ${JSON.stringify(dtype)} is not 'float32'`);
  if (!isValidShape(shape)) {
    throw bad(`shape ${JSON.stringify(shape)} is not a list of at most ${MAX_TENSOR_DIMS} non-negative integers`);
  }
  if (!Number.isSafeInteger(byteLength) || (byteLength as number) < 0) throw bad(`byteLength ${String(byteLength)} is invalid`);
  if (!Number.isSafeInteger(offset) || (offset as number) % 4 !== 0) throw bad(`offset ${String(offset)} is not a multiple of 4`);
  const len = byteLength as number;
  const off = offset as number;
  const n = elementCount(shape);
  if (n < 0 || n * 4 !== len) throw bad(`shape [${String(shape)}] needs ${n * 4} bytes, descriptor says ${len}`);
  if (off < payloadStart || off + len > frameLength) {
    throw bad(`payload [${off}, ${off + len}) lies outside the frame's payload area [${payloadStart}, ${frameLength})`);
  }
  return payloadTensor(shape, n, buf, frameAt + off, onCopy);
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

function bad(message: string): ProtocolError {
  return new ProtocolError('BAD_TENSOR', message);
}
