/**
 * INFER and RESULT, the two messages of the measurement loop, encoded and decoded without the general
 * layers. Right after a large payload copy the CPU caches are cold and every object and function a
 * message touches costs several times its usual price, so these two skip the fields object, the
 * descriptor list, the measure-then-write map codec and parseMessage's field checks: their header
 * has one usual layout, `{id, cut | cloudUs, tensors: [{dtype, shape, byteLength, offset}]}`, written
 * from constant pieces and the few values that change, and read back by comparing bytes.
 *
 * Both stay exact: encodeHot gives the bytes encodeFrame gives, decodeHot the message parseMessage
 * gives. A message or frame off the usual layout (another key order, an extra key, an odd value)
 * gets null and goes the general way, which also decides every error.
 */
import { FRAME_ALIGN, MAX_FRAME_LIMIT, MAX_HEADER_BYTES, MAX_TENSOR_DIMS, MESSAGE_CODES, PAYLOAD_ALIGN, PREFIX_BYTES, alignUp } from './constants.js';
import { INLINE_PAYLOAD_BELOW, ZEROS, writePrefix, zero } from './frame-writer.js';
import { asciiAt, numberBytes, readFloat64BE, stringBytes, writeAscii, writeNumber } from './header-codec.js';
import type { Message } from './messages.js';
import { HOST_IS_LE, type Tensor, payloadBytes, payloadTensor } from './tensor.js';

/** msgpack of map and array heads (numbers) and short ASCII keys (strings, as fixstr), in order. */
function piece(...parts: (number | string)[]): Uint8Array {
  const bytes: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') bytes.push(p);
    else bytes.push(0xa0 + p.length, ...Buffer.from(p, 'latin1'));
  }
  return Uint8Array.from(bytes);
}

// The constant parts of the header, between the values.
const MAP3_ID = piece(0x83, 'id');
const TENSOR_TO_SHAPE = piece('tensors', 0x91, 0x84, 'dtype', 'float32', 'shape');
const BYTE_LENGTH = piece('byteLength');
const OFFSET = piece('offset');

interface Layout {
  code: number;
  /** The field between `id` and `tensors`. */
  second: 'cut' | 'cloudUs';
  secondKey: Uint8Array;
  /** Header bytes that are not values. */
  fixed: number;
}

function layout(code: number, second: 'cut' | 'cloudUs'): Layout {
  const secondKey = piece(second);
  const fixed = MAP3_ID.length + secondKey.length + TENSOR_TO_SHAPE.length + BYTE_LENGTH.length + OFFSET.length;
  return { code, second, secondKey, fixed };
}

const INFER = layout(MESSAGE_CODES.INFER, 'cut');
const RESULT = layout(MESSAGE_CODES.RESULT, 'cloudUs');

function put(buf: Buffer, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) buf[at + i] = bytes[i]!;
  return at + bytes.length;
}

// ---- encoding ----

/** Bytes of INFER's cut or RESULT's cloudUs (as the general way writes them), or -1. */
function secondBytes(v: unknown): number {
  return typeof v === 'number' ? numberBytes(v) : typeof v === 'string' ? stringBytes(v) : -1;
}

/**
 * INFER or RESULT as encodeMessage's frame chunks, or null when the message is another type or not
 * in the usual form. Throws what encodeFrame throws first for a bad tensor.
 */
export function encodeHot(message: Message, maxFrame: number = MAX_FRAME_LIMIT): Buffer[] | null {
  const l = message.type === 'INFER' ? INFER : message.type === 'RESULT' ? RESULT : null;
  if (l === null) return null;
  // encodeMessage puts the fields in the header in the message's own key order: only the usual order is done here.
  let keys = 0;
  for (const k in message) {
    if (k === 'type' || k === 'tensor') continue;
    if (k !== (keys === 0 ? 'id' : keys === 1 ? l.second : '')) return null;
    keys++;
  }
  const fields = message as unknown as Record<string, unknown>;
  const id = fields['id'];
  const second = fields[l.second];
  const t = fields['tensor'] as Tensor | undefined;
  // An undefined field is left out of the header; the general path does that.
  if (keys !== 2 || id === undefined || second === undefined || typeof t !== 'object' || t === null) return null;
  // The usual tensor, checked in one plain loop (checkOutgoing's iterators cost more on cold caches):
  // anything else goes the general way, which throws checkOutgoing's errors.
  const { shape, data } = t;
  if (!(data instanceof Float32Array) || !Array.isArray(shape) || shape.length > MAX_TENSOR_DIMS) return null;
  let n = 1;
  // A fixarray head, then the dims.
  let shapeBytes = 1;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return null;
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) return null;
    const b = numberBytes(d);
    if (b < 0) return null;
    shapeBytes += b;
  }
  if (n !== data.length) return null;
  const byteLength = data.byteLength;
  const idBytes = typeof id === 'number' ? numberBytes(id) : -1;
  const secondLength = secondBytes(second);
  const lengthBytes = numberBytes(byteLength);
  // The values are measured (and written) by type, not by the codec's any-value measure and write,
  // which cost several times more on cold caches.
  if (idBytes < 0 || secondLength < 0 || lengthBytes < 0) return null;

  // The payload starts at the aligned end of the header, whose length depends on that offset's own
  // width: settled as encodeFrame settles it, from the lowest start up.
  const withoutOffset = l.fixed + idBytes + secondLength + shapeBytes + lengthBytes;
  let start = PREFIX_BYTES;
  let needed = alignUp(PREFIX_BYTES + withoutOffset + numberBytes(start), PAYLOAD_ALIGN);
  while (needed !== start) {
    start = needed;
    needed = alignUp(PREFIX_BYTES + withoutOffset + numberBytes(start), PAYLOAD_ALIGN);
  }
  const headerBytes = withoutOffset + numberBytes(start);
  const frameLength = alignUp(alignUp(start + byteLength, PAYLOAD_ALIGN), FRAME_ALIGN);
  // Too large: the general path throws its error.
  if (headerBytes > MAX_HEADER_BYTES || frameLength > maxFrame) return null;

  const inline = byteLength < INLINE_PAYLOAD_BELOW;
  const head = Buffer.allocUnsafe(inline ? frameLength : start);
  writePrefix(head, l.code, frameLength, headerBytes);
  let at = put(head, PREFIX_BYTES, MAP3_ID);
  at = writeNumber(head, at, id as number);
  at = put(head, at, l.secondKey);
  at = typeof second === 'string' ? writeAscii(head, at, second) : writeNumber(head, at, second as number);
  at = put(head, at, TENSOR_TO_SHAPE);
  head[at++] = 0x90 + shape.length; // fixarray: at most MAX_TENSOR_DIMS (8) dims
  for (let i = 0; i < shape.length; i++) at = writeNumber(head, at, shape[i]!);
  at = put(head, at, BYTE_LENGTH);
  at = writeNumber(head, at, byteLength);
  at = put(head, at, OFFSET);
  at = writeNumber(head, at, start);
  if (at !== PREFIX_BYTES + headerBytes) throw new Error(`bug: ${l.second} header of ${at - PREFIX_BYTES} bytes, ${headerBytes} predicted`);
  zero(head, at, start);
  if (inline) {
    // A plain byte view to copy from: Buffer.from's checks cost more than the few bytes.
    head.set(HOST_IS_LE ? new Uint8Array(data.buffer, data.byteOffset, byteLength) : payloadBytes(t), start);
    zero(head, start + byteLength, frameLength);
    return [head];
  }
  const pad = frameLength - start - byteLength;
  return pad > 0 ? [head, payloadBytes(t), ZEROS.subarray(0, pad)] : [head, payloadBytes(t)];
}

// ---- decoding ----

/** Read position in the frame being decoded. */
let pos = 0;

/** Consumes `bytes` if buf[pos..] starts with them. */
function match(buf: Buffer, stop: number, bytes: Uint8Array): boolean {
  if (pos + bytes.length > stop) return false;
  for (let i = 0; i < bytes.length; i++) if (buf[pos + i] !== bytes[i]) return false;
  pos += bytes.length;
  return true;
}

/** An unsigned msgpack integer (fixint, uint 8/16/32), or -1. */
function readUint(buf: Buffer, stop: number): number {
  if (pos >= stop) return -1;
  const head = buf[pos]!;
  if (head < 0x80) {
    pos++;
    return head;
  }
  const bytes = head === 0xcc ? 1 : head === 0xcd ? 2 : head === 0xce ? 4 : 0;
  if (bytes === 0 || pos + 1 + bytes > stop) return -1;
  // Big-endian, byte by byte (Buffer's read methods validate their offset at a cost that shows).
  let n = 0;
  for (let i = 1; i <= bytes; i++) n = n * 0x100 + buf[pos + i]!;
  pos += 1 + bytes;
  return n;
}

/** INFER's cut: an ASCII string (fixstr, str 8) or an unsigned integer; null otherwise. */
function readCut(buf: Buffer, stop: number): string | number | null {
  if (pos >= stop) return null;
  const head = buf[pos]!;
  let n: number;
  if (head >= 0xa0 && head <= 0xbf) {
    n = head - 0xa0;
    pos += 1;
  } else if (head === 0xd9 && pos + 1 < stop) {
    n = buf[pos + 1]!;
    pos += 2;
  } else {
    const v = readUint(buf, stop);
    return v < 0 ? null : v;
  }
  if (pos + n > stop) return null;
  const s = asciiAt(buf, pos, n);
  pos += n;
  return s;
}

/** RESULT's cloudUs: an integer (fixint, uint 8/16/32) or a finite float 64; null otherwise. */
function readFinite(buf: Buffer, stop: number): number | null {
  if (pos >= stop) return null;
  const head = buf[pos]!;
  if (head >= 0xe0) {
    pos++;
    return head - 0x100;
  }
  if (head === 0xcb) {
    if (pos + 9 > stop) return null;
    const v = readFloat64BE(buf, pos + 1);
    pos += 9;
    return Number.isFinite(v) ? v : null;
  }
  const v = readUint(buf, stop);
  return v < 0 ? null : v;
}

/**
 * The INFER or RESULT in buf[at..at+frameLength) (its prefix already checked; the header ends at
 * frame offset `headerEnd`), or null when the frame is another type or its header is not laid out
 * as encodeHot lays it out. Checks what decodeFrame, readTensor and parseMessage check, so what
 * passes here passes there with the same result.
 */
export function decodeHot(type: number, buf: Buffer, at: number, headerEnd: number, frameLength: number, onCopy: () => void): Message | null {
  const l = type === INFER.code ? INFER : type === RESULT.code ? RESULT : null;
  if (l === null) return null;
  const stop = at + headerEnd;
  pos = at + PREFIX_BYTES;
  if (!match(buf, stop, MAP3_ID)) return null;
  const id = readUint(buf, stop);
  if (id < 0 || !match(buf, stop, l.secondKey)) return null;
  const second = l === INFER ? readCut(buf, stop) : readFinite(buf, stop);
  if (second === null || !match(buf, stop, TENSOR_TO_SHAPE) || pos >= stop) return null;
  const dims = buf[pos++]! - 0x90;
  if (dims < 0 || dims > MAX_TENSOR_DIMS) return null;
  const shape: number[] = [];
  let n = 1;
  for (let i = 0; i < dims; i++) {
    const d = readUint(buf, stop);
    n *= d;
    // Checked at each step, as readTensor counts: an overflow is not undone by a later 0.
    if (d < 0 || n > Number.MAX_SAFE_INTEGER) return null;
    shape.push(d);
  }
  if (!match(buf, stop, BYTE_LENGTH)) return null;
  const byteLength = readUint(buf, stop);
  if (byteLength < 0 || !match(buf, stop, OFFSET)) return null;
  const offset = readUint(buf, stop);
  if (pos !== stop || offset < headerEnd || offset % 4 !== 0 || n * 4 !== byteLength || offset + byteLength > frameLength) return null;
  const tensor = payloadTensor(shape, n, buf, at + offset, onCopy);
  return l === INFER ? { type: 'INFER', id, cut: second, tensor } : { type: 'RESULT', id, cloudUs: second as number, tensor };
}
