import { FRAME_ALIGN, MAGIC, MAX_FRAME_LIMIT, MAX_HEADER_BYTES, PAYLOAD_ALIGN, PREFIX_BYTES, alignUp } from './constants.js';
import { ProtocolError } from './errors.js';
import { headerLength, writeHeader } from './header-codec.js';
import { type Tensor, type TensorDescriptor, checkOutgoing, payloadBytes } from './tensor.js';

/** Payloads smaller than this are copied into the head buffer: one small copy beats one more writev entry. */
export const INLINE_PAYLOAD_BELOW = 4096;
/** Padding between and after payloads is sent as views on this. */
export const ZEROS = Buffer.alloc(Math.max(PAYLOAD_ALIGN, FRAME_ALIGN));

/** Places the payloads one after another from `start`, each aligned; returns where the last one ends. */
function layOut(descs: TensorDescriptor[], start: number): number {
  let at = start;
  for (const d of descs) {
    d.offset = at;
    at = alignUp(at + d.byteLength, PAYLOAD_ALIGN);
  }
  return at;
}

/** Bytes msgpack takes for the offsets (the encoder writes each unsigned integer in its shortest form). */
function offsetBytes(descs: readonly TensorDescriptor[]): number {
  let n = 0;
  for (const d of descs) n += d.offset < 0x80 ? 1 : d.offset < 0x100 ? 2 : d.offset < 0x10000 ? 3 : d.offset < 0x100000000 ? 5 : 9;
  return n;
}

/** Where writeFrame sends its chunks: a net.Socket, or anything with the same cork/write/uncork. */
export interface FrameSink {
  cork(): void;
  uncork(): void;
  write(chunk: Buffer): boolean;
}

function putU32LE(buf: Buffer, at: number, n: number): void {
  buf[at] = n & 0xff;
  buf[at + 1] = (n >>> 8) & 0xff;
  buf[at + 2] = (n >>> 16) & 0xff;
  buf[at + 3] = n >>> 24;
}

/** Zeroes buf[from..to): padding, at most a few bytes. */
export function zero(buf: Buffer, from: number, to: number): void {
  for (let i = from; i < to; i++) buf[i] = 0;
}

/** Writes the 16-byte prefix at buf[0..] (byte by byte: Buffer's write methods cost more than these few bytes). */
export function writePrefix(buf: Buffer, type: number, frameLength: number, headerBytes: number): void {
  putU32LE(buf, 0, MAGIC);
  putU32LE(buf, 4, frameLength);
  buf[8] = type;
  buf[9] = buf[10] = buf[11] = 0;
  putU32LE(buf, 12, headerBytes);
}

/**
 * Encodes one frame as a list of buffers to write in order: [prefix + header (+ small payloads)], then
 * each large tensor's own memory as a view (no copy) with zero padding between. The caller must not
 * change tensor data until the socket has written it.
 * Throws ProtocolError FRAME_TOO_LARGE when the frame would exceed `maxFrame`, so the sender fails
 * rather than the receiver.
 */
export function encodeFrame(
  type: number,
  fields: Record<string, unknown>,
  tensors: readonly Tensor[] = [],
  maxFrame: number = MAX_FRAME_LIMIT,
): Buffer[] {
  const descs: TensorDescriptor[] = [];
  for (const t of tensors) {
    checkOutgoing(t);
    descs.push({ dtype: 'float32', shape: t.shape, byteLength: t.data.byteLength, offset: 0 });
  }
  // The header is `{ ...fields, tensors: descs }`, or `fields` alone when no tensor goes.
  const key = descs.length > 0 ? 'tensors' : undefined;
  // Offsets live in the header, so the header's length depends on them. Only the offsets' msgpack
  // widths change with the layout, so one measure (offsets 0: a byte each) tells the length of every
  // layout; the payload area starts at the smallest position that is the aligned end of the header
  // laid out for it. A function of the arguments alone: the same message always gives the same bytes.
  const withoutOffsets = headerLength(fields, key, descs) - descs.length;
  let payloadStart = PREFIX_BYTES;
  let payloadEnd = layOut(descs, payloadStart);
  // Starting from the lowest start, each step moves it up (never down), so this settles on the least one.
  for (;;) {
    const needed = alignUp(PREFIX_BYTES + withoutOffsets + offsetBytes(descs), PAYLOAD_ALIGN);
    if (needed === payloadStart) break;
    payloadStart = needed;
    payloadEnd = layOut(descs, payloadStart);
  }
  const headerBytes = withoutOffsets + offsetBytes(descs);
  const frameLength = alignUp(payloadEnd, FRAME_ALIGN);
  if (headerBytes > MAX_HEADER_BYTES) {
    throw new ProtocolError('BAD_HEADER', `header of ${headerBytes} bytes exceeds ${MAX_HEADER_BYTES}`);
  }
  if (frameLength > maxFrame) {
    throw new ProtocolError('FRAME_TOO_LARGE', `frame of ${frameLength} bytes exceeds the limit of ${maxFrame}`);
  }

  // Head = prefix + header + padding, plus the small payloads that directly follow it.
  let headLength = payloadStart;
  let inlined = 0;
  while (inlined < descs.length && descs[inlined]!.byteLength < INLINE_PAYLOAD_BELOW) {
    headLength = alignUp(descs[inlined]!.offset + descs[inlined]!.byteLength, PAYLOAD_ALIGN);
    inlined++;
  }
  if (inlined === descs.length) headLength = frameLength;
  const head = Buffer.allocUnsafe(headLength);
  writePrefix(head, type, frameLength, headerBytes);
  let filled = writeHeader(head, PREFIX_BYTES, fields, key, descs);
  if (filled !== PREFIX_BYTES + headerBytes) {
    throw new Error(`bug: msgpack header of ${filled - PREFIX_BYTES} bytes, ${headerBytes} predicted`);
  }
  for (let i = 0; i < inlined; i++) {
    const d = descs[i]!;
    zero(head, filled, d.offset);
    head.set(payloadBytes(tensors[i]!), d.offset);
    filled = d.offset + d.byteLength;
  }
  zero(head, filled, headLength);

  const chunks: Buffer[] = [head];
  let written = headLength;
  for (let i = inlined; i < descs.length; i++) {
    const d = descs[i]!;
    if (d.offset > written) chunks.push(ZEROS.subarray(0, d.offset - written));
    if (d.byteLength > 0) chunks.push(payloadBytes(tensors[i]!));
    written = d.offset + d.byteLength;
  }
  if (frameLength > written) chunks.push(ZEROS.subarray(0, frameLength - written));
  return chunks;
}

/** Writes a frame's chunks as one corked batch (a single writev). Returns false when the socket wants a drain. */
export function writeFrame(sink: FrameSink, chunks: readonly Buffer[]): boolean {
  // One chunk (a frame without large payloads) needs no batching.
  if (chunks.length === 1) return sink.write(chunks[0]!);
  sink.cork();
  let ok = true;
  for (const c of chunks) ok = sink.write(c);
  sink.uncork();
  return ok;
}
