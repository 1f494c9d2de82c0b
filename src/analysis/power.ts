import { criticalCount, normalQuantile, perComparisonAlpha, type Distribution } from './significance.js';

/**
 * Could the samples have resolved a gain at all? Pure functions: from the spread of the points'
 * latencies, the smallest gain the rank interval (significance.ts) can tell from noise with n
 * samples per point, and how many samples a wanted gain needs.
 */

/**
 * The typical spread of one point's latency: the median over cells of the robust standard deviation
 * of log-latency (1.4826 * MAD), i.e. roughly the relative spread (0.05 = +-5 %). Cells with fewer
 * than 2 samples say nothing about spread and are skipped; null when no cell has 2.
 */
export function logSpread(cells: Distribution[]): number | null {
  const sds: number[] = [];
  for (const d of cells) {
    if (d.n < 2) continue;
    const logs = d.values.map((v) => Math.log(Math.max(v, Number.MIN_VALUE)));
    const med = weightedMedian(logs, d.counts);
    const devs = logs.map((l) => Math.abs(l - med));
    const order = devs.map((_, i) => i).sort((a, b) => devs[a]! - devs[b]!);
    sds.push(1.4826 * weightedMedian(order.map((i) => devs[i]!), order.map((i) => d.counts[i]!)));
  }
  if (sds.length === 0) return null;
  sds.sort((a, b) => a - b);
  return sds[Math.floor((sds.length - 1) / 2)]!;
}

function weightedMedian(sorted: number[], counts: number[]): number {
  const total = counts.reduce((s, c) => s + c, 0);
  let acc = 0;
  for (let i = 0; i < sorted.length; i++) {
    acc += counts[i]!;
    if (acc * 2 >= total) return sorted[i]!;
  }
  return sorted[sorted.length - 1]!;
}

/**
 * The smallest gain that can come out significant with n samples on each of two points whose
 * log-latency spreads by `spread`, at `confidence` shared by `comparisons` comparisons: the
 * expected half-width of the rank interval. Infinity when n samples can never be significant.
 * (The interval's ends are the (k+1)-th and (nm-k)-th of the n*m pairwise differences, which spread
 * like N(0, 2 spread^2): this is exact in the ranks and matches the large-sample Hodges-Lehmann width.)
 */
export function resolvableGain(n: number, spread: number, confidence: number, comparisons: number): number {
  const k = criticalCount(n, n, perComparisonAlpha(confidence, comparisons));
  if (k < 0) return Infinity;
  const z = -normalQuantile((k + 1) / (n * n + 1));
  return Math.expm1(Math.SQRT2 * spread * Math.max(0, z));
}

/** The fewest samples per point that can resolve `gain` (null when more than `max` would be needed). */
export function samplesNeeded(gain: number, spread: number, confidence: number, comparisons: number, max = 100_000): number | null {
  if (resolvableGain(max, spread, confidence, comparisons) > gain) return null;
  let lo = 1;
  let hi = max;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (resolvableGain(mid, spread, confidence, comparisons) <= gain) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The power statement of a set of measurements (JSON `power` of a network). */
export interface PowerStatement {
  /** samples per point (the median over the measured points) */
  samples: number;
  points: number;
  confidence: number;
  /** relative spread of one point's latency (robust SD of log-latency); null when no point has 2 samples */
  spread: number | null;
  /** smallest gain that can be significant; null = none can (too few samples) */
  resolvable_gain: number | null;
  min_gain: number;
  /** the samples per point that resolve min_gain (null when beyond reach) */
  samples_for_min_gain: number | null;
  /** whether these samples could have resolved min_gain */
  resolves_min_gain: boolean;
}

export function powerStatement(samples: number, points: number, spread: number | null, confidence: number, minGain: number): PowerStatement {
  const comparisons = Math.max(1, points - 1);
  if (spread === null) {
    return { samples, points, confidence, spread, resolvable_gain: null, min_gain: minGain, samples_for_min_gain: null, resolves_min_gain: false };
  }
  const g = resolvableGain(samples, spread, confidence, comparisons);
  // a gain of 0 cannot be "resolved"; the smallest meaningful target is a hair above it
  const target = Math.max(minGain, 1e-4);
  const need = samplesNeeded(target, spread, confidence, comparisons);
  return {
    samples,
    points,
    confidence,
    spread,
    resolvable_gain: Number.isFinite(g) ? g : null,
    min_gain: minGain,
    samples_for_min_gain: need,
    resolves_min_gain: Number.isFinite(g) && g <= target,
  };
}

/** e.g. "with 3 samples per point no gain under 40.0 % can be significant; about 12 are needed for 5.0 %". */
export function powerSentence(p: PowerStatement): string {
  const pc = (v: number) => `${(100 * v).toFixed(1)} %`;
  const conf = `${pc(p.confidence)} confidence, best of ${p.points} point${p.points === 1 ? '' : 's'}`;
  const can =
    p.resolvable_gain === null
      ? `with ${p.samples} sample${p.samples === 1 ? '' : 's'} per point no gain can be significant (${conf})`
      : `with ${p.samples} sample${p.samples === 1 ? '' : 's'} per point no gain under ${pc(p.resolvable_gain)} can be significant (${conf}; a point's latency spreads ${pc(p.spread ?? 0)})`;
  if (p.spread === null) return `${can}; record at least 2 samples per point (--reps) so the spread can be measured`;
  if (p.resolves_min_gain) return `${can}: enough to resolve --min-gain ${pc(p.min_gain)}`;
  const need = p.samples_for_min_gain === null ? `no practical --reps resolves ${pc(p.min_gain)}` : `about ${p.samples_for_min_gain} are needed for ${pc(p.min_gain)} (--reps ${p.samples_for_min_gain})`;
  return `${can}; ${need}`;
}
