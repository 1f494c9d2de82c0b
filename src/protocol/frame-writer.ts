import { FRAME_ALIGN, MAGIC, PAYLOAD_ALIGN } from './constants.js';
import { putU32 } from './bytes.js';

/** Payloads smaller than this are copied into the head buffer: one small copy beats one more writev entry. */
export const INLINE_PAYLOAD_BELOW = 4096;
/** Padding after a payload is sent as a view on this. */
export const ZEROS = Buffer.alloc(Math.max(PAYLOAD_ALIGN, FRAME_ALIGN));

/** Where writeFrame sends its chunks: a net.Socket, or anything with the same cork/write/uncork. */
export interface FrameSink {
  cork(): void;
  uncork(): void;
  write(chunk: Buffer): boolean;
}

/** Zeroes buf[from..to): padding, at most a few bytes. */
export function zero(buf: Buffer, from: number, to: number): void {
  for (let i = from; i < to; i++) buf[i] = 0;
}

/** Writes the 16-byte prefix at buf[0..] (byte by byte: Buffer's write methods cost more than these few bytes). */
export function writePrefix(buf: Buffer, type: number, frameLength: number, headerBytes: number): void {
  putU32(buf, 0, MAGIC);
  putU32(buf, 4, frameLength);
  buf[8] = type;
  buf[9] = buf[10] = buf[11] = 0;
  putU32(buf, 12, headerBytes);
}

/** Writes a frame's chunks as one corked batch (a single writev). Returns false when the socket wants a drain. */
export function writeFrame(sink: FrameSink, chunks: readonly Buffer[]): boolean {
  // One chunk (a frame without a large payload) needs no batching.
  if (chunks.length === 1) return sink.write(chunks[0]!);
  sink.cork();
  let ok = true;
  for (const c of chunks) ok = sink.write(c);
  sink.uncork();
  return ok;
}
