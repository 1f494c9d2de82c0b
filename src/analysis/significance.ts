/**
 * Is one point really faster than another, or is it noise? Pure statistics over whole latency
 * distributions (the HDR histograms), reusable by any comparison of latencies (points, policies).
 *
 * Method: the two-sample rank (Mann-Whitney / Wilcoxon rank-sum) confidence interval for the shift
 * of log-latency (Hodges-Lehmann estimate, Moses interval). On the log scale a shift is a ratio, so
 * the interval is directly one for the gain `slower / faster - 1`. It needs no normality, is exact
 * for small samples and honest about them: with too few samples the interval is unbounded and
 * nothing can be significant. Picking the best of N points is paid for with a Bonferroni
 * correction: every one of the N-1 comparisons with the best runs at (1 - confidence) / (N - 1).
 */

/** A latency distribution: distinct values (ascending, > 0) with how often each was recorded. */
export interface Distribution {
  values: number[];
  counts: number[];
  /** total count */
  n: number;
}

/** The gain `a / b - 1` of one distribution over another ("a is this much slower than b"), with its interval. */
export interface GainInterval {
  /** Hodges-Lehmann estimate of the typical ratio, minus 1 */
  estimate: number;
  /** interval bounds; -Infinity / Infinity when the samples cannot bound it */
  low: number;
  high: number;
  /** the interval excludes 0: a is significantly slower (low > 0) or faster (high < 0) than b */
  significant: boolean;
}

export interface CompareOptions {
  /** overall confidence, e.g. 0.95 */
  confidence: number;
  /** how many comparisons share that confidence (Bonferroni); 1 for a single planned comparison */
  comparisons?: number;
}

/** Builds a distribution from raw values (tests, or callers that hold plain samples). */
export function distributionFrom(samples: number[]): Distribution {
  const counts = new Map<number, number>();
  for (const v of samples) counts.set(v, (counts.get(v) ?? 0) + 1);
  const values = [...counts.keys()].sort((a, b) => a - b);
  return { values, counts: values.map((v) => counts.get(v)!), n: samples.length };
}

/** Two-sided error rate of one of `comparisons` comparisons sharing `confidence`. */
export function perComparisonAlpha(confidence: number, comparisons = 1): number {
  return (1 - confidence) / Math.max(1, comparisons);
}

/**
 * Compares a with b: the interval for a / b - 1 at the given confidence (Bonferroni-corrected for
 * `comparisons`). Values must be > 0 (latencies); zeros are taken as the smallest positive value.
 */
export function compareDistributions(a: Distribution, b: Distribution, opts: CompareOptions): GainInterval {
  const la = logs(a);
  const lb = logs(b);
  const k = criticalCount(a.n, b.n, perComparisonAlpha(opts.confidence, opts.comparisons));
  const nm = a.n * b.n;
  const mid = (pairQuantile(la, a.counts, lb, b.counts, Math.ceil(nm / 2)) + pairQuantile(la, a.counts, lb, b.counts, Math.floor(nm / 2) + 1)) / 2;
  const lowLog = k < 0 ? -Infinity : pairQuantile(la, a.counts, lb, b.counts, k + 1);
  const highLog = k < 0 ? Infinity : pairQuantile(la, a.counts, lb, b.counts, nm - k);
  // the unbounded ends stay unbounded (expm1(-Infinity) would read as -100 %)
  const low = k < 0 ? -Infinity : Math.expm1(lowLog);
  const high = k < 0 ? Infinity : Math.expm1(highLog);
  return { estimate: Math.expm1(mid), low, high, significant: low > 0 || high < 0 };
}

function logs(d: Distribution): number[] {
  if (d.n === 0) throw new Error('compareDistributions: empty distribution');
  return d.values.map((v) => Math.log(Math.max(v, Number.MIN_VALUE)));
}

/**
 * The r-th smallest (1-based) of the n*m pairwise differences x_i - y_j, weighted by counts,
 * found by bisection on the difference: counting pairs below a threshold is linear (two pointers).
 */
function pairQuantile(x: number[], cx: number[], y: number[], cy: number[], r: number): number {
  let lo = x[0]! - y[y.length - 1]!;
  let hi = x[x.length - 1]! - y[0]!;
  if (countAtMost(x, cx, y, cy, lo) >= r) return lo;
  for (let iter = 0; iter < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(hi)); iter++) {
    const mid = (lo + hi) / 2;
    if (countAtMost(x, cx, y, cy, mid) >= r) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Weighted count of pairs with x_i - y_j <= d. */
function countAtMost(x: number[], cx: number[], y: number[], cy: number[], d: number): number {
  // for each x_i: the y_j >= x_i - d; x ascending makes the threshold ascend, so j only moves forward
  let suffix = 0;
  for (const c of cy) suffix += c;
  let j = 0;
  let total = 0;
  for (let i = 0; i < x.length; i++) {
    const t = x[i]! - d;
    while (j < y.length && y[j]! < t) suffix -= cy[j++]!;
    total += cx[i]! * suffix;
  }
  return total;
}

/** Exact null distributions up to this many samples per side; the normal approximation beyond. */
const EXACT_MAX = 60;
const exactCache = new Map<string, Float64Array>();

/**
 * The largest k with P(U <= k) <= alpha / 2 under no difference (U = Mann-Whitney count, sizes n, m);
 * -1 when even U = 0 is too likely, i.e. these sample sizes can never give a significant result.
 */
export function criticalCount(n: number, m: number, alpha: number): number {
  if (n === 0 || m === 0) return -1;
  if (n <= EXACT_MAX && m <= EXACT_MAX) {
    const cdf = exactCdf(Math.min(n, m), Math.max(n, m));
    let k = -1;
    while (k + 1 < cdf.length && cdf[k + 1]! <= alpha / 2) k++;
    return k;
  }
  const mean = (n * m) / 2;
  const sd = Math.sqrt((n * m * (n + m + 1)) / 12);
  return Math.floor(mean - normalQuantile(1 - alpha / 2) * sd - 0.5);
}

/** Cumulative null distribution of U for sizes n <= m: P(U <= u), u = 0..nm. */
function exactCdf(n: number, m: number): Float64Array {
  const key = `${n},${m}`;
  const hit = exactCache.get(key);
  if (hit) return hit;
  // p[i][j](u) = i/(i+j) p[i-1][j](u - j) + j/(i+j) p[i][j-1](u): the largest of i+j values is an x or a y
  let prev: Float64Array[] = [];
  for (let i = 0; i <= n; i++) {
    const cur: Float64Array[] = [];
    for (let j = 0; j <= m; j++) {
      const p = new Float64Array(i * j + 1);
      if (i === 0 || j === 0) p[0] = 1;
      else {
        const fromX = prev[j]!;
        const fromY = cur[j - 1]!;
        const wx = i / (i + j);
        const wy = j / (i + j);
        for (let u = 0; u < fromX.length; u++) p[u + j]! += wx * fromX[u]!;
        for (let u = 0; u < fromY.length; u++) p[u]! += wy * fromY[u]!;
      }
      cur.push(p);
    }
    prev = cur;
  }
  const pdf = prev[m]!;
  const cdf = new Float64Array(pdf.length);
  let s = 0;
  for (let u = 0; u < pdf.length; u++) cdf[u] = s += pdf[u]!;
  exactCache.set(key, cdf);
  return cdf;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155922639];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lowTail = 0.02425;
  if (p < lowTail) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lowTail) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** One point's comparison with the fastest one of its condition. */
export interface PointVerdict extends GainInterval {
  /** not significantly slower than the best (the best itself included) */
  tie: boolean;
}

/**
 * Every point against the fastest one (`best`): how much slower each is, with its interval,
 * corrected for the N-1 comparisons; the tie set is the points not significantly slower.
 */
export function againstBest(points: Map<string, Distribution>, best: string, confidence: number): Map<string, PointVerdict> {
  const b = points.get(best);
  if (!b) throw new Error(`againstBest: no distribution for the best point ${best}`);
  const comparisons = Math.max(1, points.size - 1);
  const out = new Map<string, PointVerdict>();
  for (const [cut, d] of points) {
    if (cut === best) {
      out.set(cut, { estimate: 0, low: 0, high: 0, significant: false, tie: true });
      continue;
    }
    const g = compareDistributions(d, b, { confidence, comparisons });
    out.set(cut, { ...g, tie: !(g.low > 0) });
  }
  return out;
}
