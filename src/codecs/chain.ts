import type { CodecId } from '../protocol/codecs.js';
import type { ByteCoder } from './lossless.js';
import type { Codec } from './types.js';

/**
 * A codec followed by a lossless byte coder: the inner codec's payload compressed, its scale, zero
 * point and parameters passed through. With f32 inside, the codec is lossless.
 */
export function chained(name: string, id: CodecId, inner: Codec, coder: ByteCoder): Codec {
  return {
    name,
    id,
    bytesPerElement: null,
    encode(values, dims, options) {
      const e = inner.encode(values, dims, options);
      return { ...e, payload: coder.compress(e.payload) };
    },
    decode(encoded, dims) {
      return inner.decode({ ...encoded, payload: coder.decompress(encoded.payload) }, dims);
    },
  };
}
