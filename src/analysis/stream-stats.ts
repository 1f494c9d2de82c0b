import type { Distribution } from './significance.js';
import { normalQuantile, perComparisonAlpha } from './significance.js';

/**
 * Statistics of scenario cells (frames in flight): tail percentiles, frames/s with an interval
 * from the frames' completion times, the tie set of the best frames/s, and MLPerf LoadGen's
 * minimum sample counts. Pure functions.
 */

/**
 * MLPerf Inference LoadGen's minimum query counts for a percentile to mean anything (with early
 * stopping): 64 for p90, 662 for p99. Fewer samples: the report warns.
 */
export const LOADGEN_MIN_SAMPLES = { p90: 64, p99: 662 } as const;

/** The q-quantile (0..1) of a distribution: the smallest recorded value with at least q of the count at or below it. */
export function quantileOf(d: Distribution, q: number): number {
  if (d.n === 0) return NaN;
  const want = Math.max(1, Math.ceil(q * d.n - 1e-9));
  let seen = 0;
  for (let i = 0; i < d.values.length; i++) {
    seen += d.counts[i]!;
    if (seen >= want) return d.values[i]!;
  }
  return d.values[d.values.length - 1]!;
}

/** At least this many completions per window, so a window's rate is not a count of 1 or 2. */
const FRAMES_PER_WINDOW = 10;
/** At most this many windows per measurement. */
const MAX_WINDOWS = 20;

/**
 * Batch means of one measurement's frames/s: the span from its first to its last completion cut
 * into equal windows (at least 10 completions each on average, at most 20 windows), each window's
 * completions per second (the first completion opens the span and is not counted, so the windows'
 * mean is (n - 1) / span). Fewer than 2 windows' worth of frames: no windows.
 */
export function fpsWindows(completions: readonly number[]): number[] {
  const n = completions.length;
  const windows = Math.min(MAX_WINDOWS, Math.floor((n - 1) / FRAMES_PER_WINDOW));
  if (windows < 2) return [];
  const first = completions[0]!;
  const span = completions[n - 1]! - first;
  if (!(span > 0)) return [];
  const width = span / windows;
  const counts = new Array<number>(windows).fill(0);
  for (let i = 1; i < n; i++) counts[Math.min(windows - 1, Math.max(0, Math.ceil((completions[i]! - first) / width) - 1))]!++;
  return counts.map((c) => (c * 1000) / width);
}

/** A frames/s figure with its standard error (batch means) and the degrees of freedom behind it. */
export interface FpsEstimate {
  fps: number;
  /** null: too few frames recorded to estimate the spread */
  se: number | null;
  df: number;
}

/**
 * One edge's frames/s: completed * 1000 / elapsed (its `#dnn-stream` counts, over every
 * measurement), with the standard error of the batch means of its measurements' windows.
 */
export function fpsEstimate(completed: number, elapsedMs: number, completions: readonly (readonly number[])[]): FpsEstimate {
  const fps = elapsedMs > 0 ? (completed * 1000) / elapsedMs : 0;
  const rates = completions.flatMap((c) => fpsWindows(c));
  if (rates.length < 2) return { fps, se: null, df: 0 };
  const mean = rates.reduce((s, r) => s + r, 0) / rates.length;
  const variance = rates.reduce((s, r) => s + (r - mean) ** 2, 0) / (rates.length - 1);
  return { fps, se: Math.sqrt(variance / rates.length), df: rates.length - 1 };
}

/** Several edges together: frames/s add up, standard errors add in quadrature (the edges run independently). */
export function sumEstimates(parts: readonly FpsEstimate[]): FpsEstimate {
  const fps = parts.reduce((s, p) => s + p.fps, 0);
  if (parts.some((p) => p.se === null)) return { fps, se: null, df: 0 };
  return { fps, se: Math.sqrt(parts.reduce((s, p) => s + p.se! ** 2, 0)), df: Math.min(...parts.map((p) => p.df)) };
}

/** Two-sided interval at `confidence` (Student's t on the batch means); nulls when the spread is unknown. */
export function fpsInterval(e: FpsEstimate, confidence: number): { low: number | null; high: number | null } {
  if (e.se === null || e.df < 1) return { low: null, high: null };
  const half = tQuantile(1 - (1 - confidence) / 2, e.df) * e.se;
  return { low: Math.max(0, e.fps - half), high: e.fps + half };
}

/**
 * The arms whose frames/s is not significantly below the best one's (Welch's t on the batch means,
 * Bonferroni-corrected for the N-1 comparisons with the best, as the latency tie set); the best
 * itself included. null when some arm has no spread (too few frames recorded).
 */
export function fpsTieSet(arms: ReadonlyMap<string, FpsEstimate>, confidence: number): string[] | null {
  if (arms.size === 0) return null;
  const best = bestFps(arms)!;
  const b = arms.get(best)!;
  if ([...arms.values()].some((e) => e.se === null)) return null;
  const alpha = perComparisonAlpha(confidence, Math.max(1, arms.size - 1));
  const out: string[] = [];
  for (const [arm, e] of arms) {
    if (arm === best) {
      out.push(arm);
      continue;
    }
    const se = Math.sqrt(b.se! ** 2 + e.se! ** 2);
    const df = welchDf(b, e);
    if (se === 0 ? b.fps === e.fps : b.fps - e.fps < tQuantile(1 - alpha / 2, df) * se) out.push(arm);
  }
  return out;
}

/** The arm with the most frames/s (ties: the first). */
export function bestFps(arms: ReadonlyMap<string, FpsEstimate>): string | undefined {
  let best: string | undefined;
  for (const [arm, e] of arms) if (best === undefined || e.fps > arms.get(best)!.fps) best = arm;
  return best;
}

function welchDf(a: FpsEstimate, b: FpsEstimate): number {
  const va = a.se! ** 2;
  const vb = b.se! ** 2;
  const den = (a.df > 0 ? va ** 2 / a.df : 0) + (b.df > 0 ? vb ** 2 / b.df : 0);
  return den > 0 ? (va + vb) ** 2 / den : Math.max(1, Math.min(a.df, b.df));
}

/**
 * Student's t quantile (p in (0.5, 1)) with `df` degrees of freedom: the Cornish-Fisher expansion
 * around the normal quantile (within 0.1 % of the exact value from 3 degrees of freedom up; 1 and
 * 2 use their closed forms).
 */
export function tQuantile(p: number, df: number): number {
  if (df <= 1) return Math.tan(Math.PI * (p - 0.5));
  if (df <= 2) {
    const a = 4 * p * (1 - p);
    return (2 * p - 1) * Math.sqrt(2 / a);
  }
  const z = normalQuantile(p);
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  const z9 = z ** 9;
  return (
    z +
    (z3 + z) / (4 * df) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3) +
    (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * df ** 4)
  );
}

/** Which percentiles rest on fewer samples than LoadGen's minimum for them. */
export function shortPercentiles(samples: number): ('p90' | 'p99')[] {
  return (['p90', 'p99'] as const).filter((p) => samples < LOADGEN_MIN_SAMPLES[p]);
}
