import { DEFAULT_CODEC } from '../results/tags.js';
import type { NetworkData } from './cells.js';
import { median } from './stats.js';

/**
 * An arm is a (partition point, wire codec) pair: what the report chooses among once the crossing
 * can be encoded. A condition's cells are keyed by the arm's label: the bare point label for f32 (so
 * files without codecs read exactly as before), `POINT@CODEC` otherwise.
 */
export interface Arm {
  cut: string;
  codec: string;
}

/** 'cut' for f32, 'cut@codec' otherwise. */
export function armLabel(cut: string, codec: string = DEFAULT_CODEC): string {
  return codec === DEFAULT_CODEC ? cut : `${cut}@${codec}`;
}

/** The point and codec of an arm label (the last '@' splits: layer names may hold one, codec labels never do). */
export function splitArm(label: string): Arm {
  const at = label.lastIndexOf('@');
  return at <= 0 ? { cut: label, codec: DEFAULT_CODEC } : { cut: label.slice(0, at), codec: label.slice(at + 1) };
}

/**
 * Wire codecs that give back exactly what they were given: their fidelity loss is 0 without a
 * record. The tensor codecs of src/codecs/registry.ts's LOSSLESS (a test holds the two together;
 * importing the registry would load the native entropy coder into every report), and at the input
 * point u8 (the camera frame itself) and png.
 */
export const LOSSLESS_CODECS: ReadonlySet<string> = new Set(['f32', 'lz4', 'deflate', 'brotli', 'zstd', 'u8', 'png']);

/**
 * Camera-frame codecs of the input point (u8, png, jpeg:Q, webp:Q): the edge sends the frame
 * itself and the cloud preprocesses it (in its decode time), so the edge's compute there is not
 * the f32 arm's, which preprocesses on the edge.
 */
export function isImageCodec(codec: string): boolean {
  return codec === 'u8' || codec === 'png' || /^(jpeg|webp):\d+$/.test(codec);
}

export function isLossless(codec: string): boolean {
  return LOSSLESS_CODECS.has(codec);
}

/** An arm's mean INFER bytes per request over the conditions that recorded them (the median of their means). */
export function meanBytes(data: NetworkData, label: string): number | undefined {
  const seen = data.conditions.map((c) => c.cells.get(label)?.bytes?.mean).filter((v): v is number => v !== undefined);
  return seen.length ? median(seen) : undefined;
}
