import { ProtocolError } from './errors.js';

/**
 * Tensor codecs an INFER or RESULT may carry: the id on the wire and what each takes. A codec has a
 * scale and a zero point (an int8 codec's quantisation) and its own parameter bytes, carried after
 * the fixed header. Only `raw` (the float32 elements as they are) exists yet; an id this version
 * does not know is an UNKNOWN_CODEC error, never a guess.
 */
export const CODEC_IDS = { raw: 0 } as const;
export type CodecName = keyof typeof CODEC_IDS;
export type CodecId = (typeof CODEC_IDS)[CodecName];

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
 * What is wrong with a codec's id and parameters, or null when they are valid: raw takes no scale,
 * zero point or parameter bytes. Both ends check with this, the sender before writing.
 */
export function codecProblem(id: number, scale: number, zeroPoint: number, paramsBytes: number): ProtocolError | null {
  if (!isKnownCodec(id)) return new ProtocolError('UNKNOWN_CODEC', `tensor codec ${id} is unknown (protocol version knows ${Object.entries(CODEC_IDS).map(([n, i]) => `${i} ${n}`).join(', ')})`);
  if (scale !== 0 || zeroPoint !== 0 || paramsBytes !== 0) {
    return new ProtocolError('BAD_HEADER', `tensor codec raw takes no parameters (got scale ${scale}, zero point ${zeroPoint}, ${paramsBytes} parameter bytes)`);
  }
  return null;
}
