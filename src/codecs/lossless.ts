import { brotliCompressSync, brotliDecompressSync, constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { compressSync as lz4Compress, uncompressSync as lz4Uncompress } from 'lz4-napi';

/**
 * Lossless byte coders for the entropy stage. lz4 comes from `lz4-napi` (Rust lz4_flex, prebuilt
 * per platform as npm packages: nothing downloads at install). zstd was the first choice, but
 * `zstd-napi` ships no binary in its npm package (prebuild-install fetches one at install, else it
 * compiles), which this project does not allow. deflate and brotli (node:zlib) are the fallback.
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
