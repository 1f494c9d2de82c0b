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
  decompress(bytes: Uint8Array): Uint8Array;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export const lz4: ByteCoder = {
  compress: (bytes) => lz4Compress(asBuffer(bytes)),
  decompress: (bytes) => lz4Uncompress(bytes),
};

/** Level 1: per-frame encode time matters more than the last percent of ratio. */
export const deflate: ByteCoder = {
  compress: (bytes) => deflateRawSync(bytes, { level: 1 }),
  decompress: (bytes) => inflateRawSync(bytes),
};

/** Quality 1 and a size hint, for the same reason. */
export const brotli: ByteCoder = {
  compress: (bytes) =>
    brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 1, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength } }),
  decompress: (bytes) => brotliDecompressSync(bytes),
};
