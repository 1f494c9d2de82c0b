/** Median of a list of numbers: the one in the project (benches, calibration and warm-up, the cost model, policy runs' switch penalty); timing on a shared machine is noisy. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Median of values that rest on different numbers of samples, each weighted by its count: a value
 * from a cell raced out after 1 sample counts, but as 1 sample, not as --reps. With equal weights it
 * is median() exactly (an even count averages the two middle values).
 */
export function weightedMedian(xs: number[], weights: number[]): number {
  const order = xs.map((_, i) => i).sort((a, b) => xs[a]! - xs[b]!);
  const total = weights.reduce((s, w) => s + w, 0);
  let acc = 0;
  for (let k = 0; k < order.length; k++) {
    acc += weights[order[k]!]!;
    if (acc * 2 > total) return xs[order[k]!]!;
    if (acc * 2 === total) return (xs[order[k]!]! + xs[order[k + 1]!]!) / 2;
  }
  return xs[order[order.length - 1]!]!;
}
