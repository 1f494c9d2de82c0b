import { ProtocolError } from './errors.js';

/**
 * Tensor codecs an INFER or RESULT may carry: the id on the wire and what each takes. A codec has a
 * scale and a zero point (an int8 codec's quantisation) and its own parameter bytes, carried after
 * the fixed header. An id this version does not know is an UNKNOWN_CODEC error, never a guess. The
 * protocol checks a codec's header fields and payload size; decoding is the receiver's job
 * (src/codecs/ has the codecs, by the same ids). Ids are never reused.
 */
export const CODEC_IDS = {
  raw: 0, f16: 1, int8: 2, 'int8-ch': 3, lz4: 4, deflate: 5, brotli: 6, 'f16+lz4': 7, 'int8+lz4': 8,
  // Image codecs, at the input point only: the payload is the camera's RGB frame (u8: as it is, H x W x 3
  // bytes; jpeg/png/webp: that file's bytes); the dims are those of the model input the receiver makes of
  // it (decode, then the model's own preprocessing). Their quality is the sender's business, not carried.
  u8: 9, jpeg: 10, png: 11, webp: 12,
  zstd: 13, 'f16+zstd': 14, 'int8+zstd': 15,
} as const;
export type CodecName = keyof typeof CODEC_IDS;
export type CodecId = (typeof CODEC_IDS)[CodecName];

/** What a codec's header fields hold: nothing, an affine scale and zero point, or parameter bytes. */
type CodecFields = 'none' | 'affine' | 'params';
const FIELDS: Record<CodecName, CodecFields> = {
  raw: 'none', f16: 'none', int8: 'affine', 'int8-ch': 'params', lz4: 'none', deflate: 'none', brotli: 'none', 'f16+lz4': 'none', 'int8+lz4': 'affine',
  u8: 'none', jpeg: 'none', png: 'none', webp: 'none',
  zstd: 'none', 'f16+zstd': 'none', 'int8+zstd': 'affine',
};

/**
 * Payload bytes per element of the dims when the codec fixes them; null for an entropy-coded payload
 * (any length) and for the camera's frame: u8 is H x W x 3 bytes whatever the model's channels (a
 * grayscale network's dims have 1), so its receiver, which knows the layout, checks its size.
 */
const BYTES_PER_ELEMENT: Record<CodecName, number | null> = {
  raw: 4, f16: 2, int8: 1, 'int8-ch': 1, lz4: null, deflate: null, brotli: null, 'f16+lz4': null, 'int8+lz4': null,
  u8: null, jpeg: null, png: null, webp: null,
  zstd: null, 'f16+zstd': null, 'int8+zstd': null,
};

export function codecName(id: CodecId): CodecName {
  return CODEC_NAMES[id]!;
}

export function payloadBytesPerElement(id: CodecId): number | null {
  return BYTES_PER_ELEMENT[codecName(id)];
}

export interface TensorCodec {
  id: CodecId;
  /** int8: real value = scale * (q - zeroPoint); 0 for codecs without one */
  scale: number;
  zeroPoint: number;
  /** the codec's own header, sent as is after the fixed INFER/RESULT header */
  params: Uint8Array;
}

/** The one raw codec, shared by every message that does not name another (no object per message). */
export const RAW_CODEC: TensorCodec = Object.freeze({ id: CODEC_IDS.raw, scale: 0, zeroPoint: 0, params: new Uint8Array(0) });

/** Indexed by id: the codec's name, or undefined for an id this version does not know. */
const CODEC_NAMES: readonly (CodecName | undefined)[] = (() => {
  const names: (CodecName | undefined)[] = [];
  for (const [name, id] of Object.entries(CODEC_IDS)) names[id] = name as CodecName;
  return names;
})();

export function isKnownCodec(id: number): id is CodecId {
  return CODEC_NAMES[id] !== undefined;
}

/**
 * What is wrong with a codec's id and parameters, or null when they are valid: int8 codecs take a
 * positive finite scale and a zero point in [-128, 127]; int8-ch takes parameter bytes (at least 8);
 * the others take none. Both ends check with this, the sender before writing.
 */
export function codecProblem(id: number, scale: number, zeroPoint: number, paramsBytes: number): ProtocolError | null {
  if (!isKnownCodec(id)) return new ProtocolError('UNKNOWN_CODEC', `tensor codec ${id} is unknown (protocol version knows ${Object.entries(CODEC_IDS).map(([n, i]) => `${i} ${n}`).join(', ')})`);
  const name = codecName(id);
  const fields = FIELDS[name];
  const affine = fields === 'affine';
  const scaleOk = affine ? Number.isFinite(scale) && scale > 0 : scale === 0;
  const zeroOk = affine ? Number.isInteger(zeroPoint) && zeroPoint >= -128 && zeroPoint <= 127 : zeroPoint === 0;
  const paramsOk = fields === 'params' ? paramsBytes >= 8 : paramsBytes === 0;
  if (scaleOk && zeroOk && paramsOk) return null;
  const wants = affine
    ? 'a positive finite scale, a zero point in [-128, 127] and no parameter bytes'
    : fields === 'params'
      ? 'no scale or zero point and at least 8 parameter bytes'
      : 'no parameters';
  return new ProtocolError('BAD_HEADER', `tensor codec ${name} takes ${wants} (got scale ${scale}, zero point ${zeroPoint}, ${paramsBytes} parameter bytes)`);
}
