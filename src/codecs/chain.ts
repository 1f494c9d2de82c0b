import type { CodecId } from '../protocol/codecs.js';
import type { ByteCoder } from './lossless.js';
import { type Codec, elements } from './types.js';

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
      // the inner payload's size is fixed by the dims (f32 4, f16 2, int8 1 byte per element)
      const maxBytes = (inner.bytesPerElement ?? 4) * elements(dims);
      return inner.decode({ ...encoded, payload: coder.decompress(encoded.payload, maxBytes) }, dims);
    },
  };
}
