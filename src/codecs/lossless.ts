import { createRequire } from 'node:module';
import { brotliCompressSync, brotliDecompressSync, constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { compressSync as lz4Compress, uncompressSync as lz4Uncompress } from 'lz4-napi';
import { errorMessage } from '../errors.js';

/**
 * Lossless byte coders for the entropy stage. lz4 comes from `lz4-napi` (Rust lz4_flex, prebuilt
 * per platform as npm packages: nothing downloads at install). zstd comes from `zstd-napi`, an
 * optional dependency: its npm package ships the zstd sources but no binary, and its install
 * script (`prebuild-install -r napi || node-gyp rebuild`) downloads a prebuilt binary when it can
 * and otherwise compiles zstd with node-gyp (python3, make and a C/C++ compiler). Where neither
 * worked the package is absent or unbuilt: zstd is then unavailable (zstdProblem() says why) and
 * everything else works. deflate and brotli (node:zlib) are the fallback that is always there.
 */
export interface ByteCoder {
  compress(bytes: Uint8Array): Uint8Array;
  /** refuses (throws) output past `maxBytes` before making it: a payload from the wire may claim any size */
  decompress(bytes: Uint8Array, maxBytes: number): Uint8Array;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export const lz4: ByteCoder = {
  compress: (bytes) => lz4Compress(asBuffer(bytes)),
  decompress: (bytes, maxBytes) => {
    // the block starts with its decompressed size (u32 LE), which lz4-napi allocates as it is
    const size = bytes.byteLength >= 4 ? new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) : 0;
    if (size > maxBytes) throw new RangeError(`lz4 block claims ${size} bytes, the dims need at most ${maxBytes}`);
    return lz4Uncompress(bytes);
  },
};

/** Level 1: per-frame encode time matters more than the last percent of ratio. */
export const deflate: ByteCoder = {
  compress: (bytes) => deflateRawSync(bytes, { level: 1 }),
  decompress: (bytes, maxBytes) => inflateRawSync(bytes, { maxOutputLength: Math.max(1, maxBytes) }),
};

/** Quality 1 and a size hint, for the same reason. */
export const brotli: ByteCoder = {
  compress: (bytes) =>
    brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 1, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength } }),
  decompress: (bytes, maxBytes) => brotliDecompressSync(bytes, { maxOutputLength: Math.max(1, maxBytes) }),
};

/** What this project uses of `zstd-napi` (declared here: the package is optional, its types may be absent). */
interface ZstdBinding {
  /** zstd's one-shot ZSTD_compressCCtx: the frame header carries the content size */
  CCtx: new () => { compress(dst: Uint8Array, src: Uint8Array, level: number): number };
  compressBound(size: number): number;
  /** ZSTD_decompress into `dst`: fails (throws) rather than write past its end */
  decompress(dst: Uint8Array, src: Uint8Array): number;
  /** the size the (first) frame header claims; null when the header does not carry one; throws when it is not a zstd frame */
  getFrameContentSize(frame: Uint8Array): number | null;
  versionString(): string;
}

let loaded: { binding: ZstdBinding } | { error: string } | undefined;

/** `zstd-napi`'s native binding, loaded on first use (a missing or unbuilt package is not an error until zstd is asked for). */
function zstdLoad(): { binding: ZstdBinding } | { error: string } {
  if (loaded === undefined) {
    try {
      loaded = { binding: createRequire(import.meta.url)('zstd-napi/binding') as ZstdBinding };
    } catch (e) {
      loaded = { error: errorMessage(e).split('\n')[0]! };
    }
  }
  return loaded;
}

/** Why a zstd codec cannot be used by the name a --codec list gives it; null when zstd-napi is here. */
export function zstdProblem(codec: string): string | null {
  return 'error' in zstdLoad() ? zstdMissing(codec) : null;
}

/** zstd-napi's zstd version ("1.5.7"), undefined when the binding is not here. */
export function zstdVersion(): string | undefined {
  const z = zstdLoad();
  return 'binding' in z ? z.binding.versionString() : undefined;
}

/** The one line a user gets for a zstd codec on a machine where zstd-napi did not build. */
export function zstdMissing(codec: string): string {
  return `${codec} needs the optional package zstd-napi, which did not build here (it compiles zstd at install and needs a C compiler: npm i zstd-napi); use lz4 instead`;
}

function zstdBinding(): ZstdBinding {
  const z = zstdLoad();
  if ('error' in z) throw new Error(`${zstdMissing('zstd')} (${z.error})`);
  return z.binding;
}

/**
 * Level 1. Measured 2026-12-04 on mobilenet's ReLU outputs (224x224, seeded weights, five points from
 * conv_pw_1 to conv_pw_13; docs/benchmarks.md): level 3 took 1.5-2.5x level 1's encode time (3211264
 * f32 bytes: 17.8 against 9.3 ms), for a ratio 2-3 % better on f32, about 1 % either way on f16
 * and 2-7 % WORSE on int8 (0.594 against 0.558 at conv_pw_1); decode time is the same. Encoding is
 * paid on the edge for every frame, so the faster level is the better one here.
 */
export const ZSTD_LEVEL = 1;

let cctx: InstanceType<ZstdBinding['CCtx']> | undefined;

export const zstd: ByteCoder = {
  compress: (bytes) => {
    const z = zstdBinding();
    cctx ??= new z.CCtx();
    const out = Buffer.allocUnsafe(z.compressBound(bytes.byteLength));
    const n = cctx.compress(out, bytes, ZSTD_LEVEL);
    // the bound is above the input's size: keep a copy of the frame, not the whole bound's buffer
    return n < out.byteLength * 0.75 ? Buffer.from(out.subarray(0, n)) : out.subarray(0, n);
  },
  decompress: (bytes, maxBytes) => {
    const z = zstdBinding();
    // the frame header claims the content size, which is what the output is allocated from: check it first
    const size = z.getFrameContentSize(bytes);
    if (size === null) throw new RangeError('zstd frame does not carry its content size');
    if (size > maxBytes) throw new RangeError(`zstd frame claims ${size} bytes, the dims need at most ${maxBytes}`);
    const out = Buffer.allocUnsafe(size);
    // a second frame after the first (more output than claimed) fails here: zstd refuses to write past `out`
    const n = z.decompress(out, bytes);
    if (n !== size) throw new RangeError(`zstd frame claims ${size} bytes but holds ${n}`);
    return out;
  },
};
