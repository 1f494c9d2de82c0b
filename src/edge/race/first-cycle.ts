import { median } from '../../analysis/stats.js';

/**
 * The race's prior for a condition the cost model cannot predict (a stress level never measured, the
 * edge loaded for the first time, say; or jitter or loss, which it does not model), while an earlier
 * condition has the same link. Stress scales compute; the first cycle of the new condition measures
 * every arm once, part by part. Each arm's prediction is its parts in the earlier condition, each
 * scaled by how much that part grew in the first cycle for the OTHER arms (the median of their
 * ratios): leave-one-out, so an arm's predicted time does not rest on its own sample, which the
 * prior's rule must check against it as independent evidence (race.ts). (The predicted best it is
 * compared with does use that sample, as one ratio of its median; a spike there only lowers the
 * arm's predicted ratio: the safe way.) A spike in one arm's first sample moves one ratio of the
 * median. Pure.
 */

/** One arm's timed parts, ms. */
export interface Parts {
  edge: number;
  encode: number;
  transfer: number;
  decode: number;
  cloud: number;
}

export const PART_NAMES = ['edge', 'encode', 'transfer', 'decode', 'cloud'] as const satisfies readonly (keyof Parts)[];

/**
 * A part's ratio is read only off arms whose earlier part is at least this share of the largest
 * (input_1's edge is a copy of well under a millisecond: its ratio under load is noise).
 */
const MIN_SHARE = 0.05;

/**
 * Each arm's predicted total, ms: sum over parts of before[arm][part] * (median over the other arms
 * of first[other][part] / before[other][part]). A part no other arm measurably has keeps its earlier
 * time. Arms missing from either map are not predicted.
 */
export function firstCyclePrediction(before: ReadonlyMap<string, Parts>, first: ReadonlyMap<string, Parts>): Map<string, number> {
  const arms = [...first.keys()].filter((a) => before.has(a));
  const out = new Map<string, number>();
  const ratios = new Map(
    PART_NAMES.map((part) => {
      const largest = Math.max(0, ...arms.map((a) => before.get(a)![part]));
      const rs = new Map<string, number>();
      if (largest > 0) for (const a of arms) if (before.get(a)![part] >= MIN_SHARE * largest) rs.set(a, first.get(a)![part] / before.get(a)![part]);
      return [part, rs] as const;
    }),
  );
  for (const arm of arms) {
    let total = 0;
    for (const part of PART_NAMES) {
      const others = [...ratios.get(part)!].filter(([a]) => a !== arm).map(([, r]) => r);
      total += before.get(arm)![part] * (others.length ? median(others) : 1);
    }
    out.set(arm, total);
  }
  return out;
}
