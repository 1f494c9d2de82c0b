import { Encoder } from '@msgpack/msgpack';
import { FRAME_ALIGN, MAGIC, MAX_FRAME_LIMIT, MAX_HEADER_BYTES, PAYLOAD_ALIGN, PREFIX_BYTES, alignUp } from './constants.js';
import { ProtocolError } from './errors.js';
import { type Tensor, type TensorDescriptor, checkOutgoing, payloadBytes } from './tensor.js';

/** Payloads smaller than this are copied into the head buffer: one small copy beats one more writev entry. */
const INLINE_PAYLOAD_BELOW = 4096;
const ZEROS = Buffer.alloc(Math.max(PAYLOAD_ALIGN, FRAME_ALIGN));
const encoder = new Encoder({ ignoreUndefined: true });
/** By message type code: where the payload area began in the last frame of that type. */
const lastPayloadStart: number[] = [];

/** Where writeFrame sends its chunks: a net.Socket, or anything with the same cork/write/uncork. */
export interface FrameSink {
  cork(): void;
  uncork(): void;
  write(chunk: Buffer): boolean;
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
  const header = descs.length > 0 ? { ...fields, tensors: descs } : fields;
  // Offsets live in the header, so the header's length depends on them. Start from where this
  // message type's payload began last time (usually right: one encode), and re-encode until the
  // payload area starts exactly at the aligned end of the header. Moves are monotonic, so it settles.
  let payloadStart = lastPayloadStart[type] ?? PREFIX_BYTES;
  let headerBytes: Uint8Array;
  let frameLength: number;
  for (let tries = 0; ; tries++) {
    let at = payloadStart;
    for (const d of descs) {
      d.offset = at;
      at = alignUp(at + d.byteLength, PAYLOAD_ALIGN);
    }
    frameLength = alignUp(at, FRAME_ALIGN);
    headerBytes = encoder.encodeSharedRef(header);
    const needed = alignUp(PREFIX_BYTES + headerBytes.length, PAYLOAD_ALIGN);
    if (descs.length === 0) {
      payloadStart = frameLength = needed;
      break;
    }
    if (needed === payloadStart || (needed < payloadStart && tries >= 4)) break;
    payloadStart = needed;
  }
  lastPayloadStart[type] = payloadStart;
  if (headerBytes.length > MAX_HEADER_BYTES) {
    throw new ProtocolError('BAD_HEADER', `header of ${headerBytes.length} bytes exceeds ${MAX_HEADER_BYTES}`);
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
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(frameLength, 4);
  head[8] = type;
  head.fill(0, 9, 12);
  head.writeUInt32LE(headerBytes.length, 12);
  head.set(headerBytes, PREFIX_BYTES);
  head.fill(0, PREFIX_BYTES + headerBytes.length);
  for (let i = 0; i < inlined; i++) head.set(payloadBytes(tensors[i]!), descs[i]!.offset);

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
  sink.cork();
  let ok = true;
  for (const c of chunks) ok = sink.write(c);
  sink.uncork();
  return ok;
}
