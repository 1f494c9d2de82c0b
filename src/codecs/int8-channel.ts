import { CODEC_IDS } from '../protocol/codecs.js';
import { affineFor, finiteRange, quantize } from './affine.js';
import { type Codec, type EncodeOptions, checkPayload, checkValues, elements } from './types.js';

/**
 * Affine int8 per channel: 1 byte per element, and per channel a scale and zero point carried as
 * the codec's parameter bytes (the header's scale and zero point stay 0). Parameters, little-endian:
 *   u32 channel axis, u32 channels C, f32[C] scales, i8[C] zero points   (8 + 5C bytes)
 * The channel axis is the encoder's choice: NHWC tensors (Keras, TF.js) have their channels last
 * (axis rank - 1, the default); NCHW tensors (ONNX, torchvision) at axis 1.
 */
const PARAMS_FIXED = 8;

export function channelAxisOf(dims: readonly number[], options?: EncodeOptions): number {
  const axis = options?.channelAxis ?? dims.length - 1;
  if (!Number.isInteger(axis) || axis < 0 || axis >= dims.length) {
    throw new RangeError(`int8-ch channel axis ${axis} is not an axis of dims [${String(dims)}] (NHWC: ${dims.length - 1}, NCHW: 1)`);
  }
  return axis;
}

/** outer (dims before the axis), channels, inner (after it): element (o, c, i) is at (o * C + c) * inner + i. */
function split(dims: readonly number[], axis: number): [number, number, number] {
  return [elements(dims.slice(0, axis)), dims[axis]!, elements(dims.slice(axis + 1))];
}

export const int8ChannelCodec: Codec = {
  name: 'int8-ch',
  id: CODEC_IDS['int8-ch'],
  bytesPerElement: 1,
  encode(values, dims, options) {
    checkValues('int8-ch', values, dims);
    const axis = dims.length === 0 ? 0 : channelAxisOf(dims, options);
    const [outer, channels, inner] = dims.length === 0 ? [1, 1, 1] : split(dims, axis);
    const params = new Uint8Array(PARAMS_FIXED + 5 * channels);
    const view = new DataView(params.buffer);
    view.setUint32(0, axis, true);
    view.setUint32(4, channels, true);
    const out = new Int8Array(values.length);
    for (let c = 0; c < channels; c++) {
      const [lo, hi] = finiteRange(values, c * inner, outer, channels * inner, inner);
      const { scale, zeroPoint } = affineFor(lo, hi);
      view.setFloat32(PARAMS_FIXED + 4 * c, scale, true);
      view.setInt8(PARAMS_FIXED + 4 * channels + c, zeroPoint);
      const inv = 1 / scale;
      for (let o = 0; o < outer; o++) {
        const base = (o * channels + c) * inner;
        for (let j = 0; j < inner; j++) out[base + j] = quantize(values[base + j]!, inv, zeroPoint);
      }
    }
    return { payload: new Uint8Array(out.buffer), scale: 0, zeroPoint: 0, params };
  },
  decode({ payload, params }, dims) {
    const n = elements(dims);
    checkPayload('int8-ch', payload.byteLength, n);
    if (params.byteLength < PARAMS_FIXED) throw new RangeError(`int8-ch parameters of ${params.byteLength} bytes are shorter than ${PARAMS_FIXED}`);
    const view = new DataView(params.buffer, params.byteOffset, params.byteLength);
    const axis = view.getUint32(0, true);
    const channels = view.getUint32(4, true);
    checkPayload('int8-ch parameters', params.byteLength, PARAMS_FIXED + 5 * channels);
    const [outer, c0, inner] = dims.length === 0 ? [1, 1, 1] : split(dims, axis);
    if (axis >= Math.max(dims.length, 1) || c0 !== channels) {
      throw new RangeError(`int8-ch parameters name axis ${axis} of ${channels} channels, dims are [${String(dims)}]`);
    }
    const q = new Int8Array(payload.buffer, payload.byteOffset, n);
    const out = new Float32Array(n);
    for (let c = 0; c < channels; c++) {
      const scale = view.getFloat32(PARAMS_FIXED + 4 * c, true);
      const zeroPoint = view.getInt8(PARAMS_FIXED + 4 * channels + c);
      for (let o = 0; o < outer; o++) {
        const base = (o * channels + c) * inner;
        for (let j = 0; j < inner; j++) out[base + j] = scale * (q[base + j]! - zeroPoint);
      }
    }
    return out;
  },
};
