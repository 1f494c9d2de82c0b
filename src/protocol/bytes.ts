import { HOST_IS_LE } from './tensor.js';

/**
 * Little-endian reads and writes of the prefix and the INFER/RESULT header, byte by byte: Buffer's
 * read and write methods validate their offset at a cost that shows per frame, and the callers have
 * already checked that the bytes lie in the frame.
 */

export function getU32(buf: Buffer, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
}

export function getI32(buf: Buffer, at: number): number {
  return buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24);
}

export function putU32(buf: Buffer, at: number, n: number): void {
  buf[at] = n & 0xff;
  buf[at + 1] = (n >>> 8) & 0xff;
  buf[at + 2] = (n >>> 16) & 0xff;
  buf[at + 3] = (n >>> 24) & 0xff;
}

/** Floats go through one shared scratch value (no allocation per call). */
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const F32 = new Float32Array(1);
const F32_BYTES = new Uint8Array(F32.buffer);

export function getF64(buf: Buffer, at: number): number {
  for (let i = 0; i < 8; i++) F64_BYTES[HOST_IS_LE ? i : 7 - i] = buf[at + i]!;
  return F64[0]!;
}

export function putF64(buf: Buffer, at: number, v: number): void {
  F64[0] = v;
  for (let i = 0; i < 8; i++) buf[at + i] = F64_BYTES[HOST_IS_LE ? i : 7 - i]!;
}

export function getF32(buf: Buffer, at: number): number {
  for (let i = 0; i < 4; i++) F32_BYTES[HOST_IS_LE ? i : 3 - i] = buf[at + i]!;
  return F32[0]!;
}

export function putF32(buf: Buffer, at: number, v: number): void {
  F32[0] = v;
  for (let i = 0; i < 4; i++) buf[at + i] = F32_BYTES[HOST_IS_LE ? i : 3 - i]!;
}
