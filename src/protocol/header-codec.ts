import { Decoder, Encoder } from '@msgpack/msgpack';
import { MAX_HEADER_BYTES } from './constants.js';
import { HOST_IS_LE } from './tensor.js';

/**
 * The msgpack of frame headers. Every message pays for its header, and headers are small maps of
 * ASCII strings, numbers and lists, so a direct codec handles those: it measures a header first and
 * then writes it straight into the frame (no encoder buffer, no copy, no second encode), and reads
 * one without the general decoder's machinery. Anything else goes to @msgpack/msgpack. The direct
 * codec writes exactly the bytes @msgpack/msgpack writes (with ignoreUndefined) and reads values as
 * it reads them; where it is unsure (non-ASCII text, 64-bit integers, binary, extensions, odd keys,
 * limits, malformed input) it steps aside, so results and errors are the general codec's own.
 */

const encoder = new Encoder({ ignoreUndefined: true });

const decoder = new Decoder({
  maxStrLength: MAX_HEADER_BYTES,
  maxBinLength: MAX_HEADER_BYTES,
  maxArrayLength: 1 << 16,
  maxMapLength: 1 << 16,
  maxExtLength: 0,
});
const MAX_CONTAINER = 1 << 16;

/** Nesting the direct codec follows; deeper values go to the general codec (which has its own limits). */
const MAX_DEPTH = 32;

// ---- encoding ----

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function intBytes(n: number): number {
  if (n >= 0) return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9;
  return n >= -0x20 ? 1 : n >= -0x80 ? 2 : n >= -0x8000 ? 3 : n >= -0x80000000 ? 5 : 9;
}

function strBytes(n: number): number {
  return n < 32 ? 1 + n : n < 0x100 ? 2 + n : n < 0x10000 ? 3 + n : 5 + n;
}

function countBytes(n: number): number {
  return n < 16 ? 1 : n < 0x10000 ? 3 : 5;
}

/** Bytes of a number in msgpack, or -1 when the direct codec does not write it (see writeNumber). */
export function numberBytes(v: number): number {
  // 64-bit integers are left to the general codec (never seen in practice).
  return !Number.isSafeInteger(v) ? 9 : v >= 0x100000000 || v < -0x80000000 ? -1 : intBytes(v);
}

/** Bytes of a string in msgpack, or -1 when it is not ASCII (the general codec writes those). */
export function stringBytes(s: string): number {
  return isAscii(s) ? strBytes(s.length) : -1;
}

/** Bytes of `v` in msgpack, or -1 when the direct codec does not handle it. */
function measure(v: unknown, depth: number): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'number') return numberBytes(v);
  if (typeof v === 'string') return stringBytes(v);
  if (typeof v !== 'object' || depth >= MAX_DEPTH) return -1;
  let n: number;
  if (Array.isArray(v)) {
    n = countBytes(v.length);
    for (let i = 0; i < v.length; i++) {
      const m = measure(v[i], depth + 1);
      if (m < 0) return -1;
      n += m;
    }
    return n;
  }
  return isPlainObject(v) ? measureMap(v as Record<string, unknown>, depth, undefined, undefined) : -1;
}

/**
 * A map's entries as a spread `{ ...o, [key]: value }` would give them (`value` takes a same-named
 * entry's place), without making that object: spreading is slow, and this runs for every frame.
 */
function measureMap(o: Record<string, unknown>, depth: number, key: string | undefined, value: unknown): number {
  let count = 0;
  let n = 0;
  let placed = false;
  for (const k of Object.keys(o)) {
    let v = o[k];
    if (k === key) {
      v = value;
      placed = true;
    }
    if (v === undefined) continue;
    const m = measure(v, depth + 1);
    if (m < 0 || !isAscii(k)) return -1;
    n += strBytes(k.length) + m;
    count++;
  }
  if (key !== undefined && !placed && value !== undefined) {
    const m = measure(value, depth + 1);
    if (m < 0 || !isAscii(key)) return -1;
    n += strBytes(key.length) + m;
    count++;
  }
  return countBytes(count) + n;
}

/** Writes a type byte, then the low `bytes` bytes of `n` (two's complement) big-endian. */
function writeTagged(buf: Buffer, at: number, tag: number, n: number, bytes: number): number {
  buf[at] = tag;
  for (let i = bytes; i > 0; i--) {
    buf[at + i] = n & 0xff;
    n >>>= 8;
  }
  return at + 1 + bytes;
}

/** Writes `n` (a safe integer in [-2^31, 2^32), as measure() allowed) in its shortest form. */
function writeInt(buf: Buffer, at: number, n: number): number {
  if (n >= 0) {
    if (n < 0x80) return writeTagged(buf, at, n, 0, 0);
    return n < 0x100 ? writeTagged(buf, at, 0xcc, n, 1) : n < 0x10000 ? writeTagged(buf, at, 0xcd, n, 2) : writeTagged(buf, at, 0xce, n, 4);
  }
  if (n >= -0x20) return writeTagged(buf, at, 0xe0 | (n + 0x20), 0, 0);
  return n >= -0x80 ? writeTagged(buf, at, 0xd0, n, 1) : n >= -0x8000 ? writeTagged(buf, at, 0xd1, n, 2) : writeTagged(buf, at, 0xd2, n, 4);
}

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);

/**
 * buf[at..at+8) as a big-endian float 64, and the reverse: byte by byte through a scratch array,
 * as Buffer's own methods do, without their offset checks, which cost more than the 8 bytes.
 */
export function readFloat64BE(buf: Buffer, at: number): number {
  for (let i = 0; i < 8; i++) F64_BYTES[HOST_IS_LE ? 7 - i : i] = buf[at + i]!;
  return F64[0]!;
}

function writeFloat64BE(buf: Buffer, at: number, v: number): void {
  F64[0] = v;
  for (let i = 0; i < 8; i++) buf[at + i] = F64_BYTES[HOST_IS_LE ? 7 - i : i]!;
}

/** Writes a number numberBytes() measured: an integer in its shortest form, anything else as a float 64. */
export function writeNumber(buf: Buffer, at: number, v: number): number {
  if (Number.isSafeInteger(v)) return writeInt(buf, at, v);
  buf[at] = 0xcb;
  writeFloat64BE(buf, at + 1, v);
  return at + 9;
}

/** A map's or array's entry count: fix form below 16, else the 16- or 32-bit form (`long`, `long + 1`). */
function writeCount(buf: Buffer, at: number, n: number, fix: number, long: number): number {
  return n < 16 ? writeTagged(buf, at, fix + n, 0, 0) : n < 0x10000 ? writeTagged(buf, at, long, n, 2) : writeTagged(buf, at, long + 1, n, 4);
}

/** Writes a string stringBytes() measured. */
export function writeAscii(buf: Buffer, at: number, s: string): number {
  const n = s.length;
  at = n < 32 ? writeTagged(buf, at, 0xa0 + n, 0, 0) : n < 0x100 ? writeTagged(buf, at, 0xd9, n, 1) : n < 0x10000 ? writeTagged(buf, at, 0xda, n, 2) : writeTagged(buf, at, 0xdb, n, 4);
  for (let i = 0; i < n; i++) buf[at + i] = s.charCodeAt(i);
  return at + n;
}

/** Writes a value measure() accepted; returns where it ends. */
function write(buf: Buffer, at: number, v: unknown): number {
  if (v === null || v === undefined) {
    buf[at] = 0xc0;
    return at + 1;
  }
  if (typeof v === 'boolean') {
    buf[at] = v ? 0xc3 : 0xc2;
    return at + 1;
  }
  if (typeof v === 'number') return writeNumber(buf, at, v);
  if (typeof v === 'string') return writeAscii(buf, at, v);
  if (Array.isArray(v)) {
    at = writeCount(buf, at, v.length, 0x90, 0xdc);
    for (let i = 0; i < v.length; i++) at = write(buf, at, v[i]);
    return at;
  }
  return writeMap(buf, at, v as Record<string, unknown>, undefined, undefined);
}

/** Writes a map measureMap() accepted, with the same `key` and `value`. */
function writeMap(buf: Buffer, at: number, o: Record<string, unknown>, key: string | undefined, value: unknown): number {
  const keys = Object.keys(o);
  let count = 0;
  let placed = false;
  for (const k of keys) {
    if (k === key) placed = true;
    if ((k === key ? value : o[k]) !== undefined) count++;
  }
  const append = key !== undefined && !placed && value !== undefined;
  at = writeCount(buf, at, append ? count + 1 : count, 0x80, 0xde);
  for (const k of keys) {
    const v = k === key ? value : o[k];
    if (v === undefined) continue;
    at = writeAscii(buf, at, k);
    at = write(buf, at, v);
  }
  if (append) {
    at = writeAscii(buf, at, key);
    at = write(buf, at, value);
  }
  return at;
}

function directLength(fields: Record<string, unknown>, key: string | undefined, value: unknown): number {
  return isPlainObject(fields) ? measureMap(fields, 0, key, value) : -1;
}

function generalBytes(fields: Record<string, unknown>, key: string | undefined, value: unknown): Uint8Array {
  return encoder.encodeSharedRef(key === undefined ? fields : { ...fields, [key]: value });
}

/**
 * Bytes the header map `{ ...fields, [key]: value }` takes in msgpack (the map is never made; without
 * `key`, just `fields`).
 */
export function headerLength(fields: Record<string, unknown>, key?: string, value?: unknown): number {
  const n = directLength(fields, key, value);
  return n >= 0 ? n : generalBytes(fields, key, value).length;
}

/** Writes that header at buf[at..] (room for headerLength() bytes); returns where it ends. */
export function writeHeader(buf: Buffer, at: number, fields: Record<string, unknown>, key?: string, value?: unknown): number {
  if (directLength(fields, key, value) >= 0) return writeMap(buf, at, fields, key, value);
  const bytes = generalBytes(fields, key, value);
  buf.set(bytes, at);
  return at + bytes.length;
}

// ---- decoding ----

/** Returned by the direct reader when the general codec must decide. */
const GENERAL = Symbol('general');

const EMPTY = Buffer.alloc(0);
let src: Buffer = EMPTY;
let pos = 0;
let end = 0;

/**
 * Short strings seen before (keys, dtypes, layer names), by a hash of their bytes: a header's strings
 * mostly repeat, and a hit costs a compare instead of making a string.
 */
const SHORT_STRING = 24;
const seen: (string | undefined)[] = new Array<string | undefined>(256).fill(undefined);

/** ASCII text of src[pos..pos+n], or GENERAL (non-ASCII, or past the end). */
function readAscii(n: number): string | typeof GENERAL {
  const stop = pos + n;
  if (stop > end) return GENERAL;
  let slot = -1;
  if (n <= SHORT_STRING) {
    slot = n === 0 ? 0 : (n * 31 + src[pos]! * 7 + src[stop - 1]!) & 0xff;
    const s = seen[slot];
    if (s !== undefined && s.length === n) {
      let i = 0;
      while (i < n && s.charCodeAt(i) === src[pos + i]) i++;
      if (i === n) {
        pos = stop;
        return s;
      }
    }
  }
  for (let i = pos; i < stop; i++) if (src[i]! > 0x7f) return GENERAL;
  const s = src.toString('latin1', pos, stop);
  if (slot >= 0) seen[slot] = s;
  pos = stop;
  return s;
}

/** ASCII text of buf[start..start+n) (in bounds), or null when it is not ASCII; short strings seen before are reused. */
export function asciiAt(buf: Buffer, start: number, n: number): string | null {
  src = buf;
  pos = start;
  end = start + n;
  const s = readAscii(n);
  src = EMPTY; // hold no frame between calls
  return s === GENERAL ? null : s;
}

function readLength(bytes: number): number {
  if (pos + bytes > end) return -1;
  const n = bytes === 1 ? src[pos]! : bytes === 2 ? src.readUInt16BE(pos) : src.readUInt32BE(pos);
  pos += bytes;
  return n;
}

function readStringOf(head: number): string | typeof GENERAL {
  let n: number;
  if (head >= 0xa0 && head <= 0xbf) n = head - 0xa0;
  else if (head === 0xd9) n = readLength(1);
  else if (head === 0xda) n = readLength(2);
  else if (head === 0xdb) n = readLength(4);
  else return GENERAL;
  return n < 0 ? GENERAL : readAscii(n);
}

function readNumber(head: number, bytes: number): number | typeof GENERAL {
  if (pos + bytes > end) return GENERAL;
  const at = pos;
  pos += bytes;
  switch (head) {
    case 0xca:
      return src.readFloatBE(at);
    case 0xcb:
      return src.readDoubleBE(at);
    case 0xcc:
      return src[at]!;
    case 0xcd:
      return src.readUInt16BE(at);
    case 0xce:
      return src.readUInt32BE(at);
    case 0xd0:
      return src.readInt8(at);
    case 0xd1:
      return src.readInt16BE(at);
    default:
      return src.readInt32BE(at);
  }
}

function readArray(n: number, depth: number): unknown[] | typeof GENERAL {
  if (n < 0 || n > MAX_CONTAINER || n > end - pos) return GENERAL;
  const a: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const v = read(depth + 1);
    if (v === GENERAL) return GENERAL;
    a.push(v);
  }
  return a;
}

function readMap(n: number, depth: number): Record<string, unknown> | typeof GENERAL {
  if (n < 0 || n > MAX_CONTAINER || 2 * n > end - pos) return GENERAL;
  const m: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    if (pos >= end) return GENERAL;
    const k = readStringOf(src[pos++]!);
    // '__proto__' is refused by the general codec; let it say so.
    if (k === GENERAL || k === '__proto__') return GENERAL;
    const v = read(depth + 1);
    if (v === GENERAL) return GENERAL;
    m[k] = v;
  }
  return m;
}

function read(depth: number): unknown {
  if (pos >= end || depth >= MAX_DEPTH) return GENERAL;
  const head = src[pos++]!;
  if (head < 0x80) return head;
  if (head >= 0xe0) return head - 0x100;
  if (head < 0x90) return readMap(head - 0x80, depth);
  if (head < 0xa0) return readArray(head - 0x90, depth);
  if (head < 0xc0) return readAscii(head - 0xa0);
  switch (head) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xca:
    case 0xce:
    case 0xd2:
      return readNumber(head, 4);
    case 0xcb:
      return readNumber(head, 8);
    case 0xcc:
    case 0xd0:
      return readNumber(head, 1);
    case 0xcd:
    case 0xd1:
      return readNumber(head, 2);
    case 0xd9:
    case 0xda:
    case 0xdb:
      return readStringOf(head);
    case 0xdc:
      return readArray(readLength(2), depth);
    case 0xdd:
      return readArray(readLength(4), depth);
    case 0xde:
      return readMap(readLength(2), depth);
    case 0xdf:
      return readMap(readLength(4), depth);
    default:
      // 64-bit integers, binary, extensions, reserved bytes.
      return GENERAL;
  }
}

/** Decodes one msgpack value that must fill buf[start..stop) exactly; throws as @msgpack/msgpack does. */
export function decodeHeader(buf: Buffer, start: number, stop: number): unknown {
  src = buf;
  pos = start;
  end = stop;
  const v = read(0);
  src = EMPTY; // hold no frame between calls
  if (v !== GENERAL && pos === end) return v;
  return decoder.decode(buf.subarray(start, stop));
}
