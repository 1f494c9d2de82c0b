/**
 * How far a model output is from the reference output (the float32 output of the same split on the same
 * input): pure functions over flat Float32Arrays. Classes are positions in the flattened output.
 */

/** The k used for "top-5" agreement. */
export const TOP_K = 5;

/** What top-5 agreement means here (printed with the figures, written into dnn-cut's JSON). */
export const TOP5_DEFINITION =
  "the reference's top-1 class is among the codec output's 5 highest (top-5 accuracy with the f32 model's own prediction as the label)";

/** max |y - ref| over the elements; NaN when either has a NaN where the other does not match it (the worst there is). */
export function maxAbsDiff(y: Float32Array, ref: Float32Array): number {
  sameLength(y, ref);
  let m = 0;
  for (let i = 0; i < y.length; i++) {
    const d = Math.abs(y[i]! - ref[i]!);
    if (Number.isNaN(d)) return NaN;
    if (d > m) m = d;
  }
  return m;
}

/**
 * ||y - ref||_2 / ||ref||_2, summed in float64. A zero reference gives 0 for an equal output and
 * Infinity otherwise (every difference is infinitely large relative to nothing).
 */
export function relativeL2(y: Float32Array, ref: Float32Array): number {
  sameLength(y, ref);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < y.length; i++) {
    const d = y[i]! - ref[i]!;
    diff += d * d;
    norm += ref[i]! * ref[i]!;
  }
  if (norm === 0) return diff === 0 ? 0 : Infinity;
  return Math.sqrt(diff / norm);
}

/**
 * Positions of the k largest values, largest first; ties go to the lower position (so equal
 * outputs always rank the same) and NaN ranks below every number.
 */
export function topK(y: Float32Array, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (best.length === k && !above(v, y[best[k - 1]!]!)) continue;
    let at = Math.min(best.length, k - 1);
    best[at] = i;
    while (at > 0 && above(v, y[best[at - 1]!]!)) {
      best[at] = best[at - 1]!;
      best[at - 1] = i;
      at--;
    }
  }
  return best;
}

/** v ranks strictly above w (a NaN never does; every number ranks above a NaN). */
function above(v: number, w: number): boolean {
  if (Number.isNaN(v)) return false;
  return Number.isNaN(w) || v > w;
}

/** How one output agrees with the reference's prediction. */
export interface Agreement {
  /** the output's top-1 class is the reference's top-1 class */
  top1: boolean;
  /** the reference's top-1 class is among the output's TOP_K highest (TOP5_DEFINITION) */
  top5: boolean;
}

export function agreement(y: Float32Array, ref: Float32Array): Agreement {
  sameLength(y, ref);
  const label = topK(ref, 1)[0];
  const mine = topK(y, TOP_K);
  return { top1: mine[0] === label, top5: label !== undefined && mine.includes(label) };
}

function sameLength(y: Float32Array, ref: Float32Array): void {
  if (y.length !== ref.length) throw new RangeError(`output has ${y.length} values, the reference ${ref.length}`);
}
