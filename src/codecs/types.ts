import type { CodecId } from '../protocol/codecs.js';

/** A tensor as a codec encoded it: what an INFER/RESULT header and payload carry. */
export interface EncodedTensor {
  payload: Uint8Array;
  /** affine int8 per tensor: real = scale * (q - zeroPoint); 0 for other codecs */
  scale: number;
  zeroPoint: number;
  /** the codec's own parameter bytes (int8-ch: per-channel scales and zero points) */
  params: Uint8Array;
}

export interface EncodeOptions {
  /** int8-ch: the channel axis of `dims` (NHWC, Keras/TF.js: rank - 1; NCHW, ONNX: 1); default rank - 1 */
  channelAxis?: number;
}

/**
 * A tensor codec: pure functions of their arguments. `encode` may return views on `values` (f32)
 * and `decode` views on the payload; a caller that keeps one past the buffer's life copies it.
 */
export interface Codec {
  /** as a --codec list names it */
  name: string;
  /** on the wire (src/protocol/codecs.ts) */
  id: CodecId;
  /** bytes per element of the payload when fixed (f32 4, f16 2, int8 1), null for an entropy coder */
  bytesPerElement: number | null;
  encode(values: Float32Array, dims: readonly number[], options?: EncodeOptions): EncodedTensor;
  decode(encoded: EncodedTensor, dims: readonly number[]): Float32Array;
}

/** Number of elements of `dims` (1 for a scalar []). */
export function elements(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export const NO_PARAMS = new Uint8Array(0);

/** `bytes` as a view with 4-byte aligned memory for a typed array, copied only when it is not. */
export function aligned(bytes: Uint8Array, align: number): Uint8Array {
  if (bytes.byteOffset % align === 0) return bytes;
  return new Uint8Array(bytes);
}

/** Throws when the decoded payload does not have the bytes `dims` need: a corrupt or mismatched frame. */
export function checkPayload(codec: string, got: number, want: number): void {
  if (got !== want) throw new RangeError(`${codec} payload has ${got} bytes, the dims need ${want}`);
}

/** Throws when `values` do not have the elements `dims` need: a caller's mistake, caught before any work. */
export function checkValues(codec: string, values: Float32Array, dims: readonly number[]): void {
  const n = elements(dims);
  if (values.length !== n) throw new RangeError(`${codec}: ${values.length} values, dims [${String(dims)}] need ${n}`);
}
