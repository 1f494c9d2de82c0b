/**
 * INFER and RESULT frames: the 16-byte prefix, a fixed little-endian header, the codec's own
 * parameter bytes, zero padding to 16, the tensor payload, zero padding to 16. The header has one
 * layout for both types (a field the type does not use is 0), so neither end branches on it:
 *
 *   frame offset  type     field
 *   16            u32      request id
 *   20            u32      INFER: cut, an index into WELCOME's server.cuts; RESULT: the cloud's decode time, µs (rounded)
 *   24            f64      RESULT: cloud compute time in microseconds (decoding excluded); INFER: 0
 *   32            u8       element type of the tensor (0 = float32)
 *   33            u8       codec id (0 = raw, see codecs.ts)
 *   34            u8       rank, 0..MAX_TENSOR_DIMS
 *   35            u8       flags, 0
 *   36            u32      payload length in bytes (as the codec encoded it)
 *   40            f32      codec scale (int8), else 0
 *   44            i32      codec zero point (int8), else 0
 *   48            u32      codec parameter bytes P that follow the fixed header
 *   52            u32[8]   dims; those past the rank are 0
 *   84            u32      RESULT: queue time, µs (INFER fully received -> its compute started, decoding excluded); INFER: 0
 *   88            u8       RESULT: cloud stress CPU % in force when this request was computed; INFER: 0
 *   89            u8       RESULT: cloud stress memory %, likewise; INFER: 0
 *   90            u16      reserved, 0
 *   92            u32      RESULT: cloud stress epoch (bumped by the cloud on every change of its stress); INFER: 0
 *   96            P bytes  codec parameters
 *
 * The prefix's header length is 80 + P; the payload starts at the next multiple of 16 (96 for raw)
 * and the frame ends at the next multiple of 16 after it. Every field is checked on read.
 *
 * Three tiers: flag bit 0 (RELAY_FLAG) at 35 announces a 16-byte relay block at 96, before the
 * codec parameters (which then start at 112; header length 96 + P). INFER: u32 cut2 at 96 (an index
 * into server.cuts) and 12 zero bytes; RESULT: f64 the relay's compute (µs) at 96 and f64 its link
 * to the cloud (µs) at 104. Without the flag a frame is exactly version 3's, byte for byte.
 */
import { getF32, getF64, getI32, getU32, putF32, putF64, putU32 } from './bytes.js';
import { CODEC_IDS, RAW_CODEC, type TensorCodec, codecProblem, payloadBytesPerElement } from './codecs.js';
import { FRAME_ALIGN, MAX_FRAME_LIMIT, MAX_HEADER_BYTES, MAX_TENSOR_DIMS, MESSAGE_CODES, PAYLOAD_ALIGN, PREFIX_BYTES, alignUp } from './constants.js';
import { ProtocolError } from './errors.js';
import { INLINE_PAYLOAD_BELOW, ZEROS, writePrefix, zero } from './frame-writer.js';
import type { CloudStressState, InferMessage, RelayTimes, ResultMessage } from './message-types.js';
import { HOST_IS_LE, type Tensor, checkOutgoing, elementCount, payloadBytes, payloadTensor } from './tensor.js';

/** Frame offsets of the header's fields. */
export const TENSOR_HEADER = {
  id: 16,
  /** INFER: the cut; RESULT: the cloud's decode time in µs (the field had no use in a RESULT) */
  cut: 20,
  decodeUs: 20,
  cloudUs: 24,
  elementType: 32,
  codec: 33,
  rank: 34,
  flags: 35,
  payloadBytes: 36,
  scale: 40,
  zeroPoint: 44,
  codecParamsBytes: 48,
  dims: 52,
  queueUs: 84,
  stressCpu: 88,
  stressMem: 89,
  reserved: 90,
  stressEpoch: 92,
  /** where the codec parameters start */
  end: 96,
} as const;

/** Bytes of the fixed header (after the prefix, before the codec parameters): 80. */
export const TENSOR_HEADER_BYTES = TENSOR_HEADER.end - PREFIX_BYTES;

/** Flag bit (offset 35): a relay block follows the fixed header (three tiers). */
export const RELAY_FLAG = 1;
/** The relay block: INFER's second cut; RESULT's relay compute and link times. */
export const RELAY_BLOCK = { cut2: 96, edgeUs: 96, transferUs: 104, bytes: 16 } as const;

/** Element types of the decoded tensor. */
export const ELEMENT_TYPES = { float32: 0 } as const;

const U32_LIMIT = 0x100000000;
const EMPTY = new Float32Array(0);
const NO_STRESS: CloudStressState = { cpu: 0, mem: 0, epoch: 0 };

/** What is wrong with a RESULT's stress fields (whole percentages, a u32 epoch), or null. */
function stressFieldProblem(s: CloudStressState): string | null {
  const pct = (v: number) => Number.isInteger(v) && v >= 0 && v <= 100;
  if (!pct(s.cpu) || !pct(s.mem)) return `cpu ${s.cpu} % mem ${s.mem} % must be whole percentages in [0, 100]`;
  if (!isU32(s.epoch)) return `epoch ${s.epoch} is not an integer in [0, 2^32)`;
  return null;
}

/** Where the payload starts in a frame whose header (after the prefix) is `headerBytes` long. */
function payloadStart(headerBytes: number): number {
  return alignUp(PREFIX_BYTES + headerBytes, PAYLOAD_ALIGN);
}

/** Total bytes of an INFER or RESULT frame: prefix, header with `codecParamsBytes`, payload, padding. */
export function tensorFrameBytes(payloadBytes: number, codecParamsBytes = 0): number {
  return alignUp(payloadStart(TENSOR_HEADER_BYTES + codecParamsBytes) + payloadBytes, FRAME_ALIGN);
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n < U32_LIMIT;
}

/**
 * An INFER or RESULT as frame chunks to write in order: [prefix + header (+ a small payload)], then a
 * large payload as a view on the tensor's own memory (no copy), then padding. The caller must not
 * change the tensor until the socket has written it. An encoded message (codec not raw) sends its
 * `payload` the same way, with `tensor.shape` as the dims. A bad tensor, id, cut or time throws
 * TypeError/RangeError; a frame over `maxFrame`, FRAME_TOO_LARGE: the sender fails, not the receiver.
 */
export function encodeTensorFrame(message: InferMessage | ResultMessage, maxFrame: number = MAX_FRAME_LIMIT): Buffer[] {
  const infer = message.type === 'INFER';
  const { id, tensor } = message;
  const cut = infer ? message.cut : Math.round(message.decodeUs ?? 0);
  const cloudUs = infer ? 0 : message.cloudUs;
  const queueUs = infer ? 0 : (message.queueUs ?? 0);
  const stress = infer ? NO_STRESS : (message.stress ?? NO_STRESS);
  const codec: TensorCodec = message.codec ?? RAW_CODEC;
  const relayBlock = infer ? message.cut2 !== undefined : message.relay !== undefined;
  const fixedBytes = TENSOR_HEADER_BYTES + (relayBlock ? RELAY_BLOCK.bytes : 0);
  const params = codec.params;
  const problem = codecProblem(codec.id, codec.scale, codec.zeroPoint, params.length);
  if (problem) throw problem;
  const encoded = codec.id !== CODEC_IDS.raw ? checkEncoded(message, codec) : null;
  if (encoded === null) checkOutgoing(tensor);
  if (!isU32(id)) throw new RangeError(`${message.type} id ${id} is not an integer in [0, 2^32)`);
  if (!isU32(cut)) {
    throw new RangeError(infer ? `INFER cut ${cut} is not an index in [0, 2^32) into the WELCOME's list of cuts` : `RESULT decodeUs ${cut} is not a number of µs in [0, 2^32)`);
  }
  if (!Number.isFinite(cloudUs)) throw new RangeError(`RESULT cloudUs ${cloudUs} is not a finite number`);
  if (!isU32(queueUs)) throw new RangeError(`RESULT queueUs ${queueUs} is not a number of µs in [0, 2^32)`);
  const stressProblem = stressFieldProblem(stress);
  if (stressProblem) throw new RangeError(`RESULT stress ${stressProblem}`);
  if (relayBlock) checkRelayBlock(message);
  if (fixedBytes + params.length > MAX_HEADER_BYTES) {
    throw new ProtocolError('BAD_HEADER', `header of ${fixedBytes + params.length} bytes exceeds ${MAX_HEADER_BYTES}`);
  }
  const { shape, data } = tensor;
  const byteLength = encoded === null ? data.byteLength : encoded.byteLength;
  const headerBytes = fixedBytes + params.length;
  const start = payloadStart(headerBytes);
  const frameLength = alignUp(start + byteLength, FRAME_ALIGN);
  if (frameLength > maxFrame) throw new ProtocolError('FRAME_TOO_LARGE', `frame of ${frameLength} bytes exceeds the limit of ${maxFrame}`);

  const inline = byteLength < INLINE_PAYLOAD_BELOW;
  const head = Buffer.allocUnsafe(inline ? frameLength : start);
  writePrefix(head, infer ? MESSAGE_CODES.INFER : MESSAGE_CODES.RESULT, frameLength, headerBytes);
  putU32(head, TENSOR_HEADER.id, id);
  putU32(head, TENSOR_HEADER.cut, cut);
  putF64(head, TENSOR_HEADER.cloudUs, cloudUs);
  head[TENSOR_HEADER.elementType] = ELEMENT_TYPES.float32;
  head[TENSOR_HEADER.codec] = codec.id;
  head[TENSOR_HEADER.rank] = shape.length;
  head[TENSOR_HEADER.flags] = relayBlock ? RELAY_FLAG : 0;
  putU32(head, TENSOR_HEADER.payloadBytes, byteLength);
  putF32(head, TENSOR_HEADER.scale, codec.scale);
  putU32(head, TENSOR_HEADER.zeroPoint, codec.zeroPoint);
  putU32(head, TENSOR_HEADER.codecParamsBytes, params.length);
  for (let i = 0; i < MAX_TENSOR_DIMS; i++) putU32(head, TENSOR_HEADER.dims + 4 * i, i < shape.length ? shape[i]! : 0);
  putU32(head, TENSOR_HEADER.queueUs, queueUs);
  head[TENSOR_HEADER.stressCpu] = stress.cpu;
  head[TENSOR_HEADER.stressMem] = stress.mem;
  head[TENSOR_HEADER.reserved] = 0;
  head[TENSOR_HEADER.reserved + 1] = 0;
  putU32(head, TENSOR_HEADER.stressEpoch, stress.epoch);
  if (relayBlock) writeRelayBlock(head, message);
  if (params.length > 0) head.set(params, PREFIX_BYTES + fixedBytes);
  zero(head, PREFIX_BYTES + headerBytes, start);
  if (inline) {
    // A plain byte view to copy from: Buffer.from's checks cost more than the few bytes.
    head.set(encoded ?? (HOST_IS_LE ? new Uint8Array(data.buffer, data.byteOffset, byteLength) : payloadBytes(tensor)), start);
    zero(head, start + byteLength, frameLength);
    return [head];
  }
  const pad = frameLength - start - byteLength;
  const body = encoded === null ? payloadBytes(tensor) : Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  return pad > 0 ? [head, body, ZEROS.subarray(0, pad)] : [head, body];
}

/** A two-cut INFER's cut2 is a u32; a relay RESULT's times are finite. */
function checkRelayBlock(message: InferMessage | ResultMessage): void {
  if (message.type === 'INFER') {
    if (!isU32(message.cut2!)) throw new RangeError(`INFER cut2 ${message.cut2} is not an index in [0, 2^32) into the WELCOME's list of cuts`);
    return;
  }
  const { edgeUs, transferUs } = message.relay!;
  if (!Number.isFinite(edgeUs) || !Number.isFinite(transferUs)) throw new RangeError(`RESULT relay times ${edgeUs} µs and ${transferUs} µs must be finite numbers`);
}

function writeRelayBlock(head: Buffer, message: InferMessage | ResultMessage): void {
  if (message.type === 'INFER') {
    putU32(head, RELAY_BLOCK.cut2, message.cut2!);
    zero(head, RELAY_BLOCK.cut2 + 4, RELAY_BLOCK.cut2 + RELAY_BLOCK.bytes);
    return;
  }
  putF64(head, RELAY_BLOCK.edgeUs, message.relay!.edgeUs);
  putF64(head, RELAY_BLOCK.transferUs, message.relay!.transferUs);
}

/** The relay block of a frame whose flag announces one (checked as the rest of the header is). */
function readRelayBlock(infer: boolean, buf: Buffer, at: number): { cut2: number } | { relay: RelayTimes } {
  if (infer) {
    for (let i = RELAY_BLOCK.cut2 + 4; i < RELAY_BLOCK.cut2 + RELAY_BLOCK.bytes; i++) {
      if (buf[at + i] !== 0) throw badHeader('INFER', `relay block bytes ${RELAY_BLOCK.cut2 + 4}..${RELAY_BLOCK.cut2 + RELAY_BLOCK.bytes} must be 0`);
    }
    return { cut2: getU32(buf, at + RELAY_BLOCK.cut2) };
  }
  const edgeUs = getF64(buf, at + RELAY_BLOCK.edgeUs);
  const transferUs = getF64(buf, at + RELAY_BLOCK.transferUs);
  if (!Number.isFinite(edgeUs) || !Number.isFinite(transferUs)) throw badHeader('RESULT', `relay times ${edgeUs} µs and ${transferUs} µs must be finite numbers`);
  return { relay: { edgeUs, transferUs } };
}

/** An encoded message's payload, checked: bytes present, tensor data empty, shape valid, size as the codec fixes. */
function checkEncoded(message: InferMessage | ResultMessage, codec: TensorCodec): Uint8Array {
  const { payload, tensor } = message;
  if (!(payload instanceof Uint8Array)) throw new TypeError(`${message.type} with codec ${codec.id} needs its encoded payload bytes`);
  if (tensor.data.length !== 0) throw new RangeError(`${message.type} with codec ${codec.id} carries its payload, not tensor data (got ${tensor.data.length} elements)`);
  const n = elementCount(tensor.shape);
  if (n < 0) throw new RangeError(`tensor shape [${String(tensor.shape)}] is not at most ${MAX_TENSOR_DIMS} dims, each an integer in [0, 2^32)`);
  const problem = payloadProblem(codec.id, n, payload.byteLength, tensor.shape);
  if (problem) throw problem;
  return payload;
}

/** A codec that fixes its bytes per element: the payload must be exactly that many. */
function payloadProblem(codecId: number, n: number, byteLength: number, shape: number[]): ProtocolError | null {
  const per = payloadBytesPerElement(codecId as TensorCodec['id']);
  if (per === null || n * per === byteLength) return null;
  return new ProtocolError('BAD_TENSOR', `shape [${String(shape)}] needs ${n * per} bytes of codec ${codecId}, the header says ${byteLength}`);
}

/** The fields only a RESULT carries. */
interface ResultFields {
  cloudUs: number;
  decodeUs: number;
  queueUs: number;
  stress: CloudStressState;
}

/**
 * A received RESULT; `decodeUs` only when the cloud decoded something (absent means 0, as when
 * sent); `queueUs` and `stress` always (what the edge checks against the condition it measures).
 */
function resultOf(id: number, f: ResultFields, tensor: Tensor, codec: TensorCodec, payload?: Uint8Array): ResultMessage {
  const { cloudUs, decodeUs, queueUs, stress } = f;
  const m: ResultMessage =
    decodeUs === 0 ? { type: 'RESULT', id, cloudUs, queueUs, stress, tensor, codec } : { type: 'RESULT', id, cloudUs, decodeUs, queueUs, stress, tensor, codec };
  if (payload !== undefined) m.payload = payload;
  return m;
}

/** The v3 fields at 84..96: 0 in an INFER; in a RESULT, whole percentages and a zero reserved field. */
function queueAndStress(infer: boolean, buf: Buffer, at: number): { queueUs: number; stress: CloudStressState } {
  const type = infer ? 'INFER' : 'RESULT';
  const queueUs = getU32(buf, at + TENSOR_HEADER.queueUs);
  const cpu = buf[at + TENSOR_HEADER.stressCpu]!;
  const mem = buf[at + TENSOR_HEADER.stressMem]!;
  const reserved = buf[at + TENSOR_HEADER.reserved]! | (buf[at + TENSOR_HEADER.reserved + 1]! << 8);
  const epoch = getU32(buf, at + TENSOR_HEADER.stressEpoch);
  if (reserved !== 0) throw badHeader(type, `reserved field at ${TENSOR_HEADER.reserved} must be 0 (got ${reserved})`);
  if (infer && (queueUs !== 0 || cpu !== 0 || mem !== 0 || epoch !== 0)) throw badHeader(type, `fields 'queueUs' and 'stress' must be 0 in an INFER`);
  if (cpu > 100 || mem > 100) throw badHeader(type, `stress cpu ${cpu} % mem ${mem} % must be percentages in [0, 100]`);
  return { queueUs, stress: { cpu, mem, epoch } };
}

function badHeader(type: string, message: string): ProtocolError {
  return new ProtocolError('BAD_HEADER', `${type} ${message}`);
}

/**
 * The INFER (`infer` true) or RESULT in buf[at..at+frameLength), whose prefix the reader has checked
 * (header of `headerLength` bytes, within the frame). The tensor is a view on `buf` when its memory
 * is 4-byte aligned, else a copy (`onCopy` counts it). Throws a ProtocolError naming the field.
 */
export function decodeTensorFrame(
  infer: boolean,
  buf: Buffer,
  at: number,
  headerLength: number,
  frameLength: number,
  onCopy: () => void,
): InferMessage | ResultMessage {
  const type = infer ? 'INFER' : 'RESULT';
  const flags = buf[at + TENSOR_HEADER.flags]!;
  if ((flags & ~RELAY_FLAG) !== 0) throw badHeader(type, `flags must be 0 or ${RELAY_FLAG} (a relay block follows) (got ${flags})`);
  const relayBlock = flags === RELAY_FLAG;
  const fixedBytes = TENSOR_HEADER_BYTES + (relayBlock ? RELAY_BLOCK.bytes : 0);
  if (headerLength < fixedBytes) {
    throw badHeader(type, `header of ${headerLength} bytes is shorter than its fixed ${fixedBytes}`);
  }
  const id = getU32(buf, at + TENSOR_HEADER.id);
  // INFER: the cut; RESULT: the cloud's decode time (µs)
  const cut = getU32(buf, at + TENSOR_HEADER.cut);
  const cloudUs = getF64(buf, at + TENSOR_HEADER.cloudUs);
  if (infer && cloudUs !== 0) throw badHeader(type, `field 'cloudUs' must be 0 in an INFER`);
  if (!Number.isFinite(cloudUs)) throw badHeader(type, `field 'cloudUs' must be a finite number (got ${cloudUs})`);
  const elementType = buf[at + TENSOR_HEADER.elementType]!;
  if (elementType !== ELEMENT_TYPES.float32) throw new ProtocolError('BAD_TENSOR', `element type ${elementType} is not float32 (0)`);
  const codecId = buf[at + TENSOR_HEADER.codec]!;
  const rank = buf[at + TENSOR_HEADER.rank]!;
  const byteLength = getU32(buf, at + TENSOR_HEADER.payloadBytes);
  const paramsBytes = getU32(buf, at + TENSOR_HEADER.codecParamsBytes);
  if (headerLength !== fixedBytes + paramsBytes) {
    throw badHeader(type, `header of ${headerLength} bytes, its fixed ${fixedBytes} and ${paramsBytes} codec parameter bytes make ${fixedBytes + paramsBytes}`);
  }
  const block = relayBlock ? readRelayBlock(infer, buf, at) : undefined;
  const { queueUs, stress } = queueAndStress(infer, buf, at);
  const scale = getF32(buf, at + TENSOR_HEADER.scale);
  const zeroPoint = getI32(buf, at + TENSOR_HEADER.zeroPoint);
  const problem = codecProblem(codecId, scale, zeroPoint, paramsBytes);
  if (problem) throw problem;
  if (rank > MAX_TENSOR_DIMS) throw new ProtocolError('BAD_TENSOR', `rank ${rank} exceeds ${MAX_TENSOR_DIMS}`);
  const shape: number[] = [];
  let n = 1;
  for (let i = 0; i < MAX_TENSOR_DIMS; i++) {
    const d = getU32(buf, at + TENSOR_HEADER.dims + 4 * i);
    if (i >= rank) {
      if (d !== 0) throw badHeader(type, `dim ${i} must be 0 past the rank ${rank} (got ${d})`);
      continue;
    }
    n *= d;
    // Checked at each step: an overflow is not undone by a later 0.
    if (n > Number.MAX_SAFE_INTEGER) throw new ProtocolError('BAD_TENSOR', `dims ${i + 1} of rank ${rank} already make more than 2^53 elements`);
    shape.push(d);
  }
  if (codecId === CODEC_IDS.raw) {
    if (n * 4 !== byteLength) throw new ProtocolError('BAD_TENSOR', `shape [${String(shape)}] needs ${n * 4} bytes of float32, the header says ${byteLength}`);
  } else {
    const bad = payloadProblem(codecId, n, byteLength, shape);
    if (bad) throw bad;
  }
  const start = payloadStart(headerLength);
  const want = alignUp(start + byteLength, FRAME_ALIGN);
  if (frameLength !== want) {
    throw new ProtocolError('BAD_LENGTH', `${type} frame of ${frameLength} bytes, its header and ${byteLength}-byte payload make ${want}`);
  }
  let m: InferMessage | ResultMessage;
  if (codecId === CODEC_IDS.raw) {
    const tensor: Tensor = payloadTensor(shape, n, buf, at + start, onCopy);
    m = infer ? { type: 'INFER', id, cut, tensor, codec: RAW_CODEC } : resultOf(id, { cloudUs, decodeUs: cut, queueUs, stress }, tensor, RAW_CODEC);
  } else {
    // Encoded: the payload and parameters as views on the frame, for the receiver's codec to decode.
    const paramsAt = at + PREFIX_BYTES + fixedBytes;
    const codec: TensorCodec = { id: codecId as TensorCodec['id'], scale, zeroPoint, params: buf.subarray(paramsAt, paramsAt + paramsBytes) };
    const tensor: Tensor = { shape, data: EMPTY };
    const payload = buf.subarray(at + start, at + start + byteLength);
    m = infer ? { type: 'INFER', id, cut, tensor, codec, payload } : resultOf(id, { cloudUs, decodeUs: cut, queueUs, stress }, tensor, codec, payload);
  }
  if (block !== undefined) Object.assign(m, block);
  return m;
}
