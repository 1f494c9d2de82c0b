import { UserError } from '../errors.js';
import { CODEC_IDS } from '../protocol/codecs.js';
import { chained } from './chain.js';
import { f16Codec } from './f16.js';
import { f32Codec } from './f32.js';
import { int8ChannelCodec } from './int8-channel.js';
import { int8Codec } from './int8.js';
import { brotli, deflate, lz4, zstd, zstdProblem } from './lossless.js';
export { zstdVersion } from './lossless.js';
import type { Codec } from './types.js';

/** Every codec by the name a --codec list uses, in the order the docs list them. */
export const CODECS: ReadonlyMap<string, Codec> = new Map(
  [
    f32Codec,
    f16Codec,
    int8Codec,
    int8ChannelCodec,
    chained('lz4', CODEC_IDS.lz4, f32Codec, lz4),
    chained('deflate', CODEC_IDS.deflate, f32Codec, deflate),
    chained('brotli', CODEC_IDS.brotli, f32Codec, brotli),
    chained('f16+lz4', CODEC_IDS['f16+lz4'], f16Codec, lz4),
    chained('int8+lz4', CODEC_IDS['int8+lz4'], int8Codec, lz4),
    // zstd-napi is optional: these are listed wherever it is, and parseCodecList refuses them where it did not build
    chained('zstd', CODEC_IDS.zstd, f32Codec, zstd),
    chained('f16+zstd', CODEC_IDS['f16+zstd'], f16Codec, zstd),
    chained('int8+zstd', CODEC_IDS['int8+zstd'], int8Codec, zstd),
  ].map((c) => [c.name, c]),
);

/** Codecs that give back exactly what they were given. */
export const LOSSLESS = new Set(['f32', 'lz4', 'deflate', 'brotli', 'zstd']);

/** Codecs whose byte coder is zstd (the optional zstd-napi). */
const ZSTD_CODECS = new Set(['zstd', 'f16+zstd', 'int8+zstd']);

const BY_ID: readonly Codec[] = (() => {
  const a: Codec[] = [];
  for (const c of CODECS.values()) a[c.id] = c;
  return a;
})();

/**
 * Why a cloud cannot decode one of `codecs`, or null: a zstd codec where its WELCOME's versions name
 * no `zstd` (dnn-cloud lists zstd-napi's zstd there when it loads; a cloud without it would fail
 * every such request with BAD_TENSOR).
 */
export function cloudCodecProblem(codecs: readonly Codec[], cloudVersions: Readonly<Record<string, string>>): string | null {
  const z = codecs.find((c) => ZSTD_CODECS.has(c.name));
  if (z === undefined || cloudVersions['zstd'] !== undefined) return null;
  return `--codec ${z.name}: the cloud cannot decode zstd (its WELCOME names no zstd version: the optional package zstd-napi did not build there, or it runs an older release); use lz4 instead`;
}

/** The codec a frame's id names (ids the protocol accepted are all here). */
export function codecById(id: number): Codec {
  const c = BY_ID[id];
  if (c === undefined) throw new RangeError(`no codec has id ${id}`);
  return c;
}

/**
 * `f32,f16,int8+lz4` as codecs, in order, each once. An empty or unknown name is a one-line
 * UserError listing the known names; so is a zstd codec where zstd-napi did not build.
 */
export function parseCodecList(spec: string): Codec[] {
  const out: Codec[] = [];
  for (const raw of spec.split(',')) {
    const name = raw.trim().toLowerCase();
    const codec = CODECS.get(name);
    if (codec === undefined) {
      const what = name === '' ? `an empty codec name in '${spec}'` : `unknown codec '${raw.trim()}'`;
      throw new UserError(`--codec: ${what}; known codecs: ${[...CODECS.keys()].join(', ')}`);
    }
    const missing = ZSTD_CODECS.has(name) ? zstdProblem(name) : null;
    if (missing !== null) throw new UserError(`--codec: ${missing}`);
    if (!out.includes(codec)) out.push(codec);
  }
  return out;
}
