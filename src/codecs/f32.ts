import { CODEC_IDS } from '../protocol/codecs.js';
import { type Codec, NO_PARAMS, checkValues, aligned, checkPayload, elements } from './types.js';

/** float32 as it is (codec id 0, raw): both ways a view on the same memory, no work. */
export const f32Codec: Codec = {
  name: 'f32',
  id: CODEC_IDS['raw'],
  bytesPerElement: 4,
  encode(values, dims) {
    checkValues('f32', values, dims);
    return { payload: new Uint8Array(values.buffer, values.byteOffset, values.byteLength), scale: 0, zeroPoint: 0, params: NO_PARAMS };
  },
  decode({ payload }, dims) {
    const n = elements(dims);
    checkPayload('f32', payload.byteLength, 4 * n);
    const bytes = aligned(payload, 4);
    return new Float32Array(bytes.buffer, bytes.byteOffset, n);
  },
};
