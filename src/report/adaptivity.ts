import { UserError } from '../errors.js';
import type { CutRef, PointRow } from './model.js';

/** Does the partition point have to move? Pure functions of the per-condition analysis. */

/** What the deployed point loses against the best one: total(deployed) / total(best) - 1. */
export function gainOver(deployedMs: number, bestMs: number): number {
  return deployedMs / bestMs - 1;
}

/** Repartition when another point is best and moving there saves at least minGain. */
export function needsRepartition(bestCut: string, deployedCut: string, gain: number | null, minGain: number): boolean {
  return gain !== null && bestCut !== deployedCut && gain >= minGain;
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
