import { UserError } from '../errors.js';
import type { ConditionData, CutRef } from './cells.js';
import type { PointRow, PointVsBest, Significance } from './findings.js';
import { againstBest, type Distribution } from './significance.js';

/** Does the partition point have to move? Pure functions of the per-condition analysis. */

/** What the deployed point loses against the best one: total(deployed) / total(best) - 1. */
export function gainOver(deployedMs: number, bestMs: number): number {
  return deployedMs / bestMs - 1;
}

/**
 * Repartition when another point is best, moving there saves at least minGain, and the saving is
 * significant. When significance is unknown (no spread recorded) the gain alone decides, as the
 * published study did.
 */
export function needsRepartition(bestCut: string, deployedCut: string, gain: number | null, minGain: number, significance: Significance = 'unknown'): boolean {
  return movesBy(bestCut, deployedCut, gain, minGain) && significance !== 'not significant';
}

/** The best point differs and gains at least minGain, significant or not. */
export function movesBy(bestCut: string, deployedCut: string, gain: number | null, minGain: number): boolean {
  return gain !== null && bestCut !== deployedCut && gain >= minGain;
}

/**
 * Every measured point of a condition against its best (interval of how much slower, tie-set
 * membership); null when a point has no recorded distribution (--legacy: significance unknown).
 */
export function pointsAgainstBest(data: ConditionData, rows: PointRow[], best: string, confidence: number): Map<string, PointVsBest> | null {
  const dists = new Map<string, Distribution>();
  for (const r of rows) {
    const d = data.cells.get(r.cut)?.total?.dist;
    if (!d || d.n === 0) return null;
    dists.set(r.cut, d);
  }
  // the gain is the ratio of the report's statistic (as in every other column); the interval is the rank interval of the typical ratio
  const bestMs = rows.find((r) => r.cut === best)!.total_ms;
  const out = new Map<string, PointVsBest>();
  for (const [cut, v] of againstBest(dists, best, confidence)) {
    const gain = gainOver(rows.find((r) => r.cut === cut)!.total_ms, bestMs);
    out.set(cut, { gain, low: bounded(v.low), high: bounded(v.high), tie: v.tie });
  }
  return out;
}

/** Unbounded interval ends become null (JSON has no Infinity). */
function bounded(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** Is the best point significantly faster than `cut` (which must be among the verdicts)? */
export function significanceOf(verdicts: Map<string, PointVsBest> | null, cut: string): Significance {
  const v = verdicts?.get(cut);
  if (!v) return 'unknown';
  return v.tie ? 'not significant' : 'significant';
}

/**
 * The deployed point: the one given with --deployed, else the best under the baseline condition.
 * Throws a UserError naming the valid points when --deployed is not one of them.
 */
export function chooseDeployed(
  flag: string | undefined,
  network: string,
  cuts: CutRef[],
  baselineBest: PointRow,
): { cut: string; reason: 'flag' | 'best-at-baseline' } {
  if (flag === undefined) return { cut: baselineBest.cut, reason: 'best-at-baseline' };
  if (cuts.some((c) => c.cut === flag)) return { cut: flag, reason: 'flag' };
  throw new UserError(`--deployed ${flag} is not a partition point of ${network} (${listCuts(cuts)})`);
}

/** The point labels of a network, shortened when there are many. */
export function listCuts(cuts: CutRef[]): string {
  const names = cuts.map((c) => c.cut);
  return names.length > 12 ? `${names.slice(0, 6).join(', ')}, ..., ${names.slice(-3).join(', ')}` : names.join(', ');
}
