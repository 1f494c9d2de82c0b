import { CODEC_IDS } from '../protocol/codecs.js';
import { fromHalf, halfTable, toHalf } from './half.js';
import { type Codec, NO_PARAMS, checkValues, aligned, checkPayload, elements } from './types.js';

/** IEEE half precision, little-endian: 2 bytes per element, round to nearest even. */
export const f16Codec: Codec = {
  name: 'f16',
  id: CODEC_IDS['f16'],
  bytesPerElement: 2,
  encode(values, dims) {
    checkValues('f16', values, dims);
    const out = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = toHalf(values[i]!);
    return { payload: new Uint8Array(out.buffer), scale: 0, zeroPoint: 0, params: NO_PARAMS };
  },
  decode({ payload }, dims) {
    const n = elements(dims);
    checkPayload('f16', payload.byteLength, 2 * n);
    const bytes = aligned(payload, 2);
    const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    const table = halfTable();
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = table[halves[i]!]!;
    return out;
  },
};

export { fromHalf, toHalf };
