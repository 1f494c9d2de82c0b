/**
 * Protocol Buffers wire format: the few primitives the ONNX codec needs (varints, fixed 32/64-bit
 * values, length-delimited fields). Reading never copies bytes fields (they are views into the
 * file); writing collects chunks and concatenates once, so large weights are copied one time.
 */

export const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  Bytes = 2,
  Fixed32 = 5,
}

/** A field the codec does not model, kept verbatim (tag included) so encoding writes it back. */
export interface RawField {
  field: number;
  bytes: Uint8Array;
}

export class ProtoError extends Error {
  override name = 'ProtoError';
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export class Reader {
  pos: number;
  private readonly view: DataView;

  constructor(readonly buf: Uint8Array, start = 0, readonly end = buf.length) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as a bigint (exact for every 64-bit value). */
  varintBig(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoError('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new ProtoError('varint longer than 10 bytes');
  }

  /** A varint that must fit a JS number exactly (sizes, enums, dims); negative int64 allowed. */
  varint(): number {
    // fast path: up to 4 bytes (28 bits) without bigint
    let result = 0;
    for (let i = 0; i < 4; i++) {
      if (this.pos >= this.end) throw new ProtoError('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= (b & 0x7f) << (7 * i);
      if ((b & 0x80) === 0) return result >>> 0;
    }
    this.pos -= 4;
    const v = BigInt.asIntN(64, this.varintBig());
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ProtoError(`integer ${v} does not fit a JS number`);
    }
    return Number(v);
  }

  int64(): bigint {
    return BigInt.asIntN(64, this.varintBig());
  }

  uint64(): bigint {
    return this.varintBig();
  }

  /** int32 fields are sign-extended to 64 bits on the wire. */
  int32(): number {
    return Number(BigInt.asIntN(32, this.varintBig()));
  }

  float(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  fixed64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  bytes(): Uint8Array {
    const len = this.varint();
    this.need(len);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return utf8Decoder.decode(this.bytes());
  }

  /** A length-delimited sub-message: a reader over its bytes. */
  sub(): Reader {
    const len = this.varint();
    this.need(len);
    const r = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }

  tag(): { field: number; wire: WireType; start: number } {
    const start = this.pos;
    const key = this.varint();
    return { field: key >>> 3, wire: (key & 7) as WireType, start };
  }

  skip(wire: WireType): void {
    switch (wire) {
      case WireType.Varint: this.varintBig(); break;
      case WireType.Fixed64: this.need(8); this.pos += 8; break;
      case WireType.Bytes: { const len = this.varint(); this.need(len); this.pos += len; break; }
      case WireType.Fixed32: this.need(4); this.pos += 4; break;
      default: throw new ProtoError(`unsupported wire type ${wire as number}`);
    }
  }

  /** Skips the field whose tag began at `start` and returns it verbatim. */
  raw(field: number, wire: WireType, start: number): RawField {
    this.skip(wire);
    return { field, bytes: this.buf.subarray(start, this.pos) };
  }

  /** Repeated scalars: packed (one length-delimited run) or one value per tag; both are legal. */
  repeated<T>(wire: WireType, scalarWire: WireType, read: () => T, into: T[]): void {
    if (wire === WireType.Bytes && scalarWire !== WireType.Bytes) {
      const len = this.varint();
      this.need(len);
      const end = this.pos + len;
      while (this.pos < end) into.push(read());
      if (this.pos !== end) throw new ProtoError('packed field overruns its length');
    } else {
      expectWire(wire, scalarWire);
      into.push(read());
    }
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw new ProtoError('truncated message');
  }
}

export function expectWire(got: WireType, want: WireType): void {
  if (got !== want) throw new ProtoError(`wire type ${got} where ${want} was expected`);
}

export class Writer {
  private readonly chunks: Uint8Array[] = [];
  private scratch = new Uint8Array(256);
  private used = 0;
  length = 0;

  private room(n: number): void {
    if (this.used + n <= this.scratch.length) return;
    this.flush();
    if (n > this.scratch.length) this.scratch = new Uint8Array(n);
  }

  private flush(): void {
    if (this.used === 0) return;
    this.chunks.push(this.scratch.slice(0, this.used));
    this.used = 0;
  }

  private byte(b: number): void {
    this.scratch[this.used++] = b;
    this.length++;
  }

  varintBig(v: bigint): void {
    let u = BigInt.asUintN(64, v);
    this.room(10);
    while (u >= 0x80n) {
      this.byte(Number(u & 0x7fn) | 0x80);
      u >>= 7n;
    }
    this.byte(Number(u));
  }

  varint(v: number): void {
    if (v >= 0 && v < 0x10000000) {
      this.room(5);
      while (v >= 0x80) {
        this.byte((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      this.byte(v);
    } else {
      this.varintBig(BigInt(v));
    }
  }

  tag(field: number, wire: WireType): void {
    this.varint((field << 3) | wire);
  }

  float(v: number): void {
    this.room(4);
    new DataView(this.scratch.buffer).setFloat32(this.used, v, true);
    this.used += 4;
    this.length += 4;
  }

  double(v: number): void {
    this.room(8);
    new DataView(this.scratch.buffer).setFloat64(this.used, v, true);
    this.used += 8;
    this.length += 8;
  }

  fixed64(v: bigint): void {
    this.room(8);
    new DataView(this.scratch.buffer).setBigUint64(this.used, BigInt.asUintN(64, v), true);
    this.used += 8;
    this.length += 8;
  }

  /** Appends bytes without copying them (large weights stay where they are until finish()). */
  append(bytes: Uint8Array): void {
    if (bytes.length <= 64) {
      this.room(bytes.length);
      this.scratch.set(bytes, this.used);
      this.used += bytes.length;
      this.length += bytes.length;
      return;
    }
    this.flush();
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  bytesField(field: number, bytes: Uint8Array): void {
    this.tag(field, WireType.Bytes);
    this.varint(bytes.length);
    this.append(bytes);
  }

  stringField(field: number, s: string): void {
    this.bytesField(field, utf8Encoder.encode(s));
  }

  /** A sub-message: encodes it into its own writer, then appends its chunks (no copy). */
  message(field: number, write: (w: Writer) => void): void {
    const sub = new Writer();
    write(sub);
    sub.flush();
    this.tag(field, WireType.Bytes);
    this.varint(sub.length);
    this.flush();
    for (const c of sub.chunks) this.chunks.push(c);
    this.length += sub.length;
  }

  /** Packed repeated scalars (one length-delimited run). Empty lists write nothing. */
  packed<T>(field: number, values: readonly T[] | undefined, write: (w: Writer, v: T) => void): void {
    if (!values || values.length === 0) return;
    this.message(field, (w) => { for (const v of values) write(w, v); });
  }

  finish(): Uint8Array {
    this.flush();
    if (this.chunks.length === 1) return this.chunks[0]!;
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
