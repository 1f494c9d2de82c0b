import { CODEC_IDS } from '../protocol/codecs.js';
import { affineFor, finiteRange, quantize } from './affine.js';
import { type Codec, NO_PARAMS, checkValues, checkPayload, elements } from './types.js';

/** Affine int8 per tensor: 1 byte per element, scale and zero point in the header's own fields. */
export const int8Codec: Codec = {
  name: 'int8',
  id: CODEC_IDS['int8'],
  bytesPerElement: 1,
  encode(values, dims) {
    checkValues('int8', values, dims);
    const [lo, hi] = finiteRange(values, 0, 1, 0, values.length);
    const { scale, zeroPoint } = affineFor(lo, hi);
    const inv = 1 / scale;
    const out = new Int8Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = quantize(values[i]!, inv, zeroPoint);
    return { payload: new Uint8Array(out.buffer), scale, zeroPoint, params: NO_PARAMS };
  },
  decode({ payload, scale, zeroPoint }, dims) {
    const n = elements(dims);
    checkPayload('int8', payload.byteLength, n);
    const q = new Int8Array(payload.buffer, payload.byteOffset, n);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = scale * (q[i]! - zeroPoint);
    return out;
  },
};
