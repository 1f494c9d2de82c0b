import { compareDistributions, criticalCount, type Distribution } from '../../analysis/significance.js';
import type { RacedLine } from '../../results/raced-lines.js';
import { NoiseEnvelope } from './noise.js';

/** --min-reps and --race-prior defaults (issue 22): 3 samples before the significance rule may drop a point; probes above 1.5x the predicted best (docs/method.md, racing: "Why X = 1.5"). */
export const DEFAULT_MIN_REPS = 3;
export const DEFAULT_RACE_PRIOR = 1.5;
/** The pilot's probes (a warm-up as the prediction: one sample, its arm's first) are at least this far out, whatever --race-prior. */
export const PILOT_MIN_PRIOR = 2;

/**
 * Racing the arms of one condition (`dnn-edge --race`, issue 22): sequential elimination with the
 * report's own test, so the sweep spends samples only where the answer is still open.
 *
 * - Every arm is sampled in cycles, one sample per arm still in the race per cycle (the sweep keeps
 *   them interleaved rep by rep, each cycle shuffled).
 * - The prior: arms the cost model (fitted on the conditions already measured) predicts more than
 *   `prior` times the predicted best are probes (where the model cannot predict, the pilot: each
 *   arm's warm-up in this condition, sweep-race.ts): after cycle 1 a probe leaves the race only if its
 *   one sample agrees, i.e. it is above `prior` times the slowest sample of the arm measured fastest
 *   so far; otherwise it simply stays in the race like every other arm (it has as many samples as
 *   they do, so nothing is lost but the prediction).
 * - From cycle `minReps` on, after every cycle but the last, the arms still in the race are compared
 *   with the fastest of them (lowest median total) with the report's test for its tie set (the rank
 *   interval of compareDistributions at `confidence`, Bonferroni over the arms still in the race
 *   minus one), further corrected for the race's looks (`raceLooks`: the test is repeated after
 *   every cycle, and a test repeated L times errs up to L times as often: identical points measured
 *   10 times lost one of 4 in 15 % of races without it); the arms significantly slower leave.
 * - The gap rule, from cycle max(2, `minReps`) on (every cycle but the last): an arm leaves when even its fastest
 *   sample is more than g times the slowest sample of the fastest arm, g computed over the run's
 *   measured noise (NoiseEnvelope.gap: the smallest g with P(min of n residuals - max of m residuals
 *   > log g) <= beta) so that an arm no slower than the fastest is dropped with probability at most
 *   beta = alpha_gap / ((arms - 1) * gap looks). Far points
 *   leave after 3-4 samples instead of waiting for the rank test, which cannot separate 12 points
 *   with fewer than 7 samples each whatever the gap. alpha_gap is half the race's error rate, the
 *   significance rule's one-sided test the other half (its two-sided interval at `confidence`).
 * - Survivors are sampled up to `reps`.
 * Pure: the caller measures, this only decides.
 */

/** How often the gap rule may test: after each cycle from 2 to `reps - 1` (counted from 2 whatever --min-reps, a bound that does not depend on it). */
export function gapLooks(s: Pick<RaceSettings, 'reps'>): number {
  return Math.max(1, s.reps - 2);
}

/**
 * How often the race tests: after each cycle from `minReps` to `reps - 1` (a test after the last
 * cycle would save nothing). Each test's error rate is divided by this (Bonferroni over the looks).
 */
export function raceLooks(s: Pick<RaceSettings, 'minReps' | 'reps'>): number {
  return Math.max(1, s.reps - s.minReps);
}

export interface RaceSettings {
  /** samples every arm gets before the significance rule may drop it (1..reps) */
  minReps: number;
  /** the most samples an arm gets (--reps) */
  reps: number;
  /** the report's confidence (0.95) */
  confidence: number;
  /** probes: arms predicted more than this many times the predicted best; null: no prior */
  prior: number | null;
}

/** What the race needs to know of an arm's samples so far (totals in ms). */
export interface ArmSamples {
  /** the distribution of its totals (the report's: from the cell's histogram) */
  dist: Distribution;
  /** its median total (the report's best point is the lowest median) */
  p50: number;
}

/** An arm that left the race: the `#dnn-raced` line's fields without the cell key. */
export type Drop = Omit<RacedLine, 'cell'> & { arm: string };

export class Race {
  private readonly alive: string[];
  private readonly probes = new Map<string, number>();
  private readonly dropped = new Map<string, Drop>();
  private cycle = 0;
  private readonly arms: number;

  /**
   * arms: their labels; predicted: the cost model's predicted total per arm for this condition
   * (absent or empty: no prior; arms it does not cover are never probes).
   */
  constructor(
    arms: readonly string[],
    private readonly s: RaceSettings,
    predicted?: ReadonlyMap<string, number>,
    /**
     * never a probe: the deployed arm (the baseline's fastest). One sample cannot show it significantly
     * slower, so dropped after it, it would read as a tie in the report and hide a move the exhaustive
     * sweep finds; it is raced by the significance rule, with its samples.
     */
    private readonly keep?: string,
    /** the noise of the cells the run measured before this condition (their samples); absent: only this condition's cells */
    private readonly noise: NoiseEnvelope = new NoiseEnvelope(),
    /** where `predicted` comes from, as the drop's reason names it */
    private source = 'the cost model of the conditions measured before',
  ) {
    this.arms = arms.length;
    if (s.minReps < 1 || s.minReps > s.reps) throw new Error(`bug: race minReps ${s.minReps} outside 1..${s.reps}`);
    this.alive = [...arms];
    if (predicted) this.setProbes(predicted);
  }

  /**
   * A prior made during the first cycle, before it ends (first-cycle.ts: where the cost model cannot
   * predict, the other arms' first samples scale each arm's earlier parts). Its probes are judged
   * as any prior's after cycle 1. Returns how many arms it made probes.
   */
  priorAfterFirstSamples(predicted: ReadonlyMap<string, number>, source: string): number {
    if (this.cycle !== 0) throw new Error('bug: a prior after the first cycle ended');
    this.source = source;
    this.setProbes(predicted);
    return this.probes.size;
  }

  private setProbes(predicted: ReadonlyMap<string, number>): void {
    this.probes.clear();
    if (this.s.prior === null || predicted.size < 2) return;
    const best = Math.min(...this.alive.map((a) => predicted.get(a) ?? Infinity));
    if (!Number.isFinite(best) || best <= 0) return;
    for (const a of this.alive) {
      const p = predicted.get(a);
      if (p !== undefined && p > this.s.prior * best && a !== this.keep) this.probes.set(a, p / best);
    }
  }

  /** The arms the prior made probes (label -> predicted / predicted best). */
  get probeRatios(): ReadonlyMap<string, number> {
    return this.probes;
  }

  /** The arms to sample in the next cycle (in arm order; the caller shuffles), or [] when the race is over. */
  nextCycle(): string[] {
    return this.cycle >= this.s.reps ? [] : [...this.alive];
  }

  /** Cycles completed. */
  get cycles(): number {
    return this.cycle;
  }

  /** Every arm that left, in the order they left. */
  get drops(): Drop[] {
    return [...this.dropped.values()];
  }

  isAlive(arm: string): boolean {
    return this.alive.includes(arm);
  }

  /**
   * Ends a cycle: `samples` gives every arm's samples so far (those in the race at least). Returns
   * the arms that leave now (they are sampled no more).
   */
  endCycle(samples: (arm: string) => ArmSamples): Drop[] {
    this.cycle++;
    const out: Drop[] = [];
    if (this.cycle === 1 && this.probes.size > 0) out.push(...this.judgeProbes(samples));
    this.probes.clear();
    if (this.cycle >= this.s.minReps && this.cycle < this.s.reps && this.alive.length > 1) out.push(...this.judgeSignificance(samples));
    if (this.cycle >= Math.max(2, this.s.minReps) && this.cycle < this.s.reps && this.alive.length > out.length + 1) {
      const gone = new Set(out.map((d) => d.arm));
      out.push(...this.judgeGap(samples, gone));
    }
    for (const d of out) {
      this.dropped.set(d.arm, d);
      this.alive.splice(this.alive.indexOf(d.arm), 1);
    }
    return out;
  }

  /** The probes whose one sample agrees with the prediction: above `prior` times the slowest sample of the arm measured fastest. */
  private judgeProbes(samples: (arm: string) => ArmSamples): Drop[] {
    const x = this.s.prior!;
    const best = fastest(this.alive, samples);
    const b = samples(best);
    const bestMax = b.dist.values[b.dist.values.length - 1]!;
    const out: Drop[] = [];
    for (const [arm, ratio] of this.probes) {
      if (arm === best) continue;
      const mine = samples(arm);
      const first = mine.dist.values[0]!;
      if (!(first > x * bestMax)) continue;
      out.push({
        arm,
        samples: mine.dist.n,
        best,
        rule: 'prior',
        slower: mine.p50 / b.p50 - 1,
        predicted: round(ratio),
        reason: `predicted ${ratio.toFixed(1)}x the predicted best by ${this.source}; its sample (${first.toFixed(1)} ms) was above ${x}x the slowest of ${best} (${bestMax.toFixed(1)} ms) in cycle 1`,
      });
    }
    return out;
  }

  /** The report's tie-set test among the arms still in the race: the significantly slower ones leave. */
  private judgeSignificance(samples: (arm: string) => ArmSamples): Drop[] {
    const best = fastest(this.alive, samples);
    const out: Drop[] = [];
    const b = samples(best);
    const looks = raceLooks(this.s);
    // againstBest's comparison of every point with the best, corrected over the looks as well
    const comparisons = (this.alive.length - 1) * looks;
    for (const arm of this.alive) {
      if (arm === best) continue;
      const mine = samples(arm);
      const v = compareDistributions(mine.dist, b.dist, { confidence: this.s.confidence, comparisons });
      if (!(v.low > 0)) continue;
      out.push({
        arm,
        samples: mine.dist.n,
        best,
        rule: 'significance',
        slower: round(mine.p50 / b.p50 - 1),
        low: round(v.low),
        high: round(v.high),
        reason: `significantly slower than ${best} after ${mine.dist.n} samples each: ${pct(v.estimate)} [${pct(v.low)}, ${pct(v.high)}] at ${(this.s.confidence * 100).toFixed(0)} % over ${this.alive.length - 1} comparisons x ${looks} looks`,
      });
    }
    return out;
  }

  /**
   * The gap rule: arms whose fastest sample is above g times the slowest sample of the fastest arm,
   * g = NoiseEnvelope.gap(n, n, beta) (see the class comment). The noise is the run's cells and this condition's
   * own, and when both can say, the wider of the two (a condition noisier than the run so far is read
   * by its own tails). The deployed arm leaves by it only once the report's test could show it slower
   * with its samples against a full cell (else dropped, it would read as a tie and hide a move).
   */
  private judgeGap(samples: (arm: string) => ArmSamples, gone: ReadonlySet<string>): Drop[] {
    const alive = this.alive.filter((a) => !gone.has(a));
    const best = fastest(alive, samples);
    const b = samples(best);
    const bestMax = b.dist.values[b.dist.values.length - 1]!;
    // g >= 1: no arm whose fastest sample is above the best's slowest, no drop; spare the envelopes' sorts and sums
    if (!alive.some((arm) => arm !== best && samples(arm).dist.values[0]! > bestMax)) return [];
    const n = this.cycle;
    const beta = (1 - this.s.confidence) / 2 / (Math.max(1, this.arms - 1) * gapLooks(this.s));
    const mine = [...this.alive, ...this.dropped.keys()].map((a) => samples(a).dist);
    const run = this.noise.with(mine);
    const here = new NoiseEnvelope().with(mine);
    const g = widest([run.gap(n, n, beta), here.gap(n, n, beta)], Math.max);
    if (g === undefined) return [];
    const out: Drop[] = [];
    for (const arm of alive) {
      if (arm === best) continue;
      const m = samples(arm);
      const min = m.dist.values[0]!;
      if (!(min > g * bestMax)) continue;
      // the report's test: the best of the condition's points against it, corrected over the points - 1
      if (arm === this.keep && criticalCount(m.dist.n, this.s.reps, (1 - this.s.confidence) / Math.max(1, this.arms - 1)) < 0) continue;
      out.push({
        arm,
        samples: m.dist.n,
        best,
        rule: 'gap',
        slower: round(m.p50 / b.p50 - 1),
        gap: round(g),
        reason: `its fastest of ${m.dist.n} samples (${min.toFixed(1)} ms) was above ${g.toFixed(2)}x the slowest of ${best} (${bestMax.toFixed(1)} ms): with the run's noise (${run.size} samples) a point no slower than ${best} shows a gap this wide with probability < ${(beta * 100).toFixed(3)} % (${((1 - this.s.confidence) * 50).toFixed(1)} % over ${this.arms - 1} points x ${gapLooks(this.s)} looks)`,
      });
    }
    return out;
  }
}

/** The defined estimates combined by pick (the widest), or undefined when none is. */
function widest(xs: (number | undefined)[], pick: (...v: number[]) => number): number | undefined {
  const ok = xs.filter((x): x is number => x !== undefined);
  return ok.length ? pick(...ok) : undefined;
}

/** The arm with the lowest median total (the first of equals, in arm order). */
function fastest(arms: readonly string[], samples: (arm: string) => ArmSamples): string {
  let best = arms[0]!;
  for (const a of arms) if (samples(a).p50 < samples(best).p50) best = a;
  return best;
}

function round(v: number): number {
  return Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : v;
}

function pct(v: number): string {
  if (!Number.isFinite(v)) return v > 0 ? '+inf' : '-inf';
  return `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;
}
