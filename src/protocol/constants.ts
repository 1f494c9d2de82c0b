/**
 * Wire constants of the edge<->cloud protocol (docs/protocol.md describes it byte by byte).
 *
 * Frame = 16-byte prefix | header | zero padding to 16 | tensor payload (INFER, RESULT) | zero padding to 16.
 * Prefix (all little-endian):
 *   0  u32  magic "DNNP"
 *   4  u32  total frame length in bytes, prefix included (a multiple of FRAME_ALIGN)
 *   8  u8   message type (MESSAGE_CODES)
 *   9  u8   flags, 0 (ignored on read: room for later use)
 *   10 u16  reserved, 0
 *   12 u32  header length in bytes
 * The header is msgpack for control messages and a fixed binary layout for INFER and RESULT
 * (tensor-frame.ts). The payload starts at a multiple of PAYLOAD_ALIGN from the frame start, so an
 * aligned frame gives an aligned tensor.
 */
export const MAGIC = 0x504e4e44; // bytes 'D','N','N','P' read as u32 LE
export const PREFIX_BYTES = 16;
/** Tensor payloads start at multiples of this, relative to the frame start; frames are padded to it too. */
export const PAYLOAD_ALIGN = 16;
export const FRAME_ALIGN = 16;

/**
 * Protocol version carried in HELLO/WELCOME; bump on any incompatible change.
 * 2: INFER and RESULT carry a fixed binary header (cut as an index into WELCOME's list, a codec id).
 * 3: the header grows by 12 bytes (RESULT: queue time, the cloud stress in force and its epoch);
 *    ERROR may name the request it answers; codes QUEUE_FULL and CONDITION_CONFLICT.
 */
export const PROTOCOL_VERSION = 3;

/** Default largest frame a reader accepts (a 12.8 MB activation is ~5 % of it). */
export const DEFAULT_MAX_FRAME = 256 * 1024 * 1024;
/** Hard ceiling: the length field is a u32. */
export const MAX_FRAME_LIMIT = 0xffffffff;
export const MAX_HEADER_BYTES = 1024 * 1024;
export const MAX_TENSOR_DIMS = 8;

/** Message type codes on the wire. */
export const MESSAGE_CODES = {
  HELLO: 1,
  WELCOME: 2,
  ERROR: 3,
  INFER: 4,
  RESULT: 5,
  PING: 6,
  PONG: 7,
  CONDITION: 8,
  CONDITION_ACK: 9,
} as const;
export type MessageType = keyof typeof MESSAGE_CODES;

/** Indexed by code: the message type name, or undefined for an unknown code. */
export const MESSAGE_TYPES: readonly (MessageType | undefined)[] = (() => {
  const names: (MessageType | undefined)[] = [];
  for (const [name, code] of Object.entries(MESSAGE_CODES)) names[code] = name as MessageType;
  return names;
})();

export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}
