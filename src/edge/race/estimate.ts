import { criticalCount } from '../../analysis/significance.js';
import { stressKey, unmodelled } from '../../analysis/cost-model.js';
import { linkKey, type Condition } from '../../conditions/condition.js';
import { sampleMs, settleMs, type PointCost } from '../shard.js';
import { PILOT_MIN_PRIOR, raceLooks, type RaceSettings } from './race.js';

/**
 * What racing is expected to save, before anything is measured (--dry-run). An estimate that
 * measures nothing, from the same nominal model as the time estimate (shard.ts: MACs at a nominal rate per end, the
 * tensor's bytes at the link's rate), under stated assumptions:
 * - the prior exists for the run's first condition (the pilot: its warm-ups, probes above
 *   max(`prior`, PILOT_MIN_PRIOR)), for a condition without jitter or loss once a condition of the
 *   same stress levels came before it (the cost model predicts only measured stress levels, rate and
 *   delay) and for one whose link came
 *   before it (the first cycle scales that condition's parts, first-cycle.ts); its probes (nominal
 *   time above `prior` times the nominal best) cost 1 sample each (the measurement agrees);
 * - warm-ups are made in the first condition only: after it every point has run and is warm;
 * - a point nominally above SEPARABLE times the best separates completely from it, so it leaves at the
 *   first look where a complete separation is significant (the exact rank test, corrected over the
 *   points still in the race and the looks); nearer points run to --reps. The gap rule (race.ts)
 *   often drops them sooner, but it reads the run's measured noise, which a plan does not have: the
 *   estimate leaves it out (it errs on the side of more samples).
 * Measured latencies spread (the report's power line: 5-15 % on this project's machines), so a point
 * 1.5x the best rarely overlaps it; when the nominal model misranks points the saving differs.
 */
export const SEPARABLE = 1.5;

export interface RaceEstimate {
  /** recorded samples without and with racing */
  samples: number;
  racedSamples: number;
  /** warm-up inferences without and with racing (a probe already warm skips its own) */
  warmups: number;
  racedWarmups: number;
  /** estimated time, ms, without and with racing (settling each condition included) */
  ms: number;
  racedMs: number;
  /** conditions the prior is expected to cover */
  withPrior: number;
}

/**
 * The estimate for `conditions` (the plan's, in any order: which ones get a prior depends only on the
 * stress levels and links before each) and `points`; `select` (a shard's cells) gives the indices of the
 * points measured in the i-th condition (default: all). Warm-ups: raced, a point warms up the first
 * time it runs in the process (a shard is a process of its own); the pilot is the prior of a
 * condition whose points are all cold.
 */
export function estimateRace(
  conditions: readonly Condition[],
  points: readonly PointCost[],
  s: RaceSettings,
  warmup: number,
  select: (ci: number) => readonly number[] = () => points.map((_, i) => i),
): RaceEstimate {
  const looks = raceLooks(s);
  const stressSeen = new Set<string>();
  const linkSeen = new Set<string>();
  const warmed = new Set<number>();
  const out: RaceEstimate = { samples: 0, racedSamples: 0, warmups: 0, racedWarmups: 0, ms: 0, racedMs: 0, withPrior: 0 };
  for (const [ci, c] of conditions.entries()) {
    const idx = select(ci);
    if (idx.length === 0) continue;
    const cold = new Set(idx.filter((i) => !warmed.has(i)));
    for (const i of idx) warmed.add(i);
    // every point warms up here: the pilot (sweep-race.ts), as in the run's first condition
    const pilot = cold.size === idx.length && idx.length > 1;
    const stress = stressKey(c);
    const link = linkKey(c);
    // the model covers rate and delay only: with jitter or loss a measured stress level is not enough
    const model = unmodelled(c).length === 0 && stressSeen.has(stress);
    const firstCycle = !model && cold.size === 0 && linkSeen.has(link) && idx.length > 2;
    const prior = s.prior !== null && (pilot || model || firstCycle);
    stressSeen.add(stress);
    linkSeen.add(link);
    if (prior) out.withPrior++;
    const t = idx.map((i) => sampleMs(points[i]!, c));
    const best = Math.min(...t);
    const n = racedCounts(t, best, prior ? (pilot && !model ? Math.max(s.prior!, PILOT_MIN_PRIOR) : s.prior) : null, s, looks);
    const settle = settleMs(c);
    out.warmups += warmup * idx.length;
    out.racedWarmups += warmup * cold.size;
    out.samples += s.reps * idx.length;
    out.racedSamples += n.reduce((a, b) => a + b, 0);
    const sum = t.reduce((a, b) => a + b, 0);
    const coldSum = idx.reduce((a, i, k) => a + (cold.has(i) ? t[k]! : 0), 0);
    out.ms += settle + warmup * sum + s.reps * sum;
    out.racedMs += settle + warmup * coldSum + n.reduce((a, k, i) => a + k * t[i]!, 0);
  }
  return out;
}

/** Samples each point gets in one condition's race under the assumptions above. */
function racedCounts(t: number[], best: number, prior: number | null, s: RaceSettings, looks: number): number[] {
  const n = t.map(() => s.reps);
  const alive = new Set(t.map((_, i) => i));
  if (prior !== null) {
    for (const [i, v] of t.entries()) {
      if (v > prior * best) {
        n[i] = 1;
        alive.delete(i);
      }
    }
  }
  for (let cycle = s.minReps; cycle < s.reps && alive.size > 1; cycle++) {
    if (criticalCount(cycle, cycle, (1 - s.confidence) / ((alive.size - 1) * looks)) < 0) continue;
    for (const i of [...alive]) {
      if (t[i]! > SEPARABLE * best) {
        n[i] = cycle;
        alive.delete(i);
      }
    }
  }
  return n;
}
