import { encode } from '@msgpack/msgpack';
import { MAGIC, PREFIX_BYTES } from '../../src/protocol/constants.js';
import type { ProtocolError } from '../../src/protocol/errors.js';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import type { Message } from '../../src/protocol/messages.js';
import type { Tensor } from '../../src/protocol/tensor.js';

export { rng } from '../../src/random.js';

export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** Random shape with 0..4 dims of 0..9 (so empty tensors come up often), filled with random values. */
export function randomTensor(r: () => number): Tensor {
  const shape = Array.from({ length: randInt(r, 0, 4) }, () => (r() < 0.1 ? 0 : randInt(r, 1, 9)));
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = (r() - 0.5) * 1e6;
  return { shape, data };
}

/** Splits `bytes` at random points into 1..max-byte chunks. */
export function randomChunks(r: () => number, bytes: Buffer, max: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = Math.min(randInt(r, 1, max), bytes.length - at);
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

export interface Fed {
  messages: Message[];
  errors: ProtocolError[];
  reader: FrameReader<Message>;
}

/** Feeds chunks (then end of stream) to a fresh FrameReader, as Connection uses it; anything thrown out of push fails the test. */
export function feed(chunks: Iterable<Buffer>, maxFrame?: number, end = true): Fed {
  const messages: Message[] = [];
  const errors: ProtocolError[] = [];
  const reader = new FrameReader({ onMessage: (m) => messages.push(m), onError: (e) => errors.push(e), maxFrame });
  for (const c of chunks) reader.push(c);
  if (end) reader.end();
  return { messages, errors, reader };
}

/** The first error's code when `frame` is read alone (undefined when it decodes). */
export function codeOf(frame: Buffer): string | undefined {
  return feed([frame]).errors[0]?.code;
}

export interface HandFrame {
  type: number;
  header: unknown;
  payload?: Buffer;
  /** override the prefix fields to lie about sizes */
  frameLength?: number;
  headerLength?: number;
  magic?: number;
  /** where the payload goes (default: right after the header, 16-aligned) */
  payloadAt?: number;
}

/** Builds a control frame (msgpack header) byte by byte, outside the project's writer, so tests can make it wrong on purpose. */
export function handFrame(f: HandFrame): Buffer {
  const header = Buffer.from(encode(f.header));
  const payloadAt = f.payloadAt ?? Math.ceil((PREFIX_BYTES + header.length) / 16) * 16;
  const payload = f.payload ?? Buffer.alloc(0);
  const buf = Buffer.alloc(payloadAt + payload.length);
  buf.writeUInt32LE(f.magic ?? MAGIC, 0);
  buf.writeUInt32LE(f.frameLength ?? buf.length, 4);
  buf[8] = f.type;
  buf.writeUInt32LE(f.headerLength ?? header.length, 12);
  header.copy(buf, PREFIX_BYTES);
  payload.copy(buf, payloadAt);
  return buf;
}
