import { CONDITION_KEYS, changesAt, isShaped, type Condition, type ConditionKey } from '../conditions/condition.js';
import { FACTOR, factorsAppliedBy } from '../conditions/factors.js';
import { DEFAULT_LEVELS, conditionsFor, levelsFrom, readConditionsFile, type Design, type Levels } from '../conditions/grid.js';
import type { CutPoint } from '../model/partition.js';
import { UserError } from '../errors.js';

/** Which conditions and points a run measures, from its flags (levels, --design, --conditions, --no-shape, --quick). */

export interface ConditionFlags {
  levels: Partial<Record<ConditionKey, string>>;
  design: Design;
  conditionsFile?: string;
  shape: boolean;
  quick: boolean;
  /** --tiers 3: no stress by default (stress is not yet applied to three tiers) */
  tiers?: boolean;
}

/** --quick: a first look in a few minutes (two rates, edge CPU idle or saturated, nothing else). */
export const QUICK_LEVELS: Levels = { ...DEFAULT_LEVELS, net: [50, 10], ecpu: [0, 100], emem: [0], ccpu: [0], cmem: [0] };
/** --tiers 3: the default rates, and no stress at any end (not yet: refused when asked for). */
export const TIER_LEVELS: Levels = { ...DEFAULT_LEVELS, ecpu: [0], emem: [0], ccpu: [0], cmem: [0] };
// 8, not 3: with 3 samples per point no move among 10 points can be significant (rank test); 8 resolve a clear move
export const QUICK_REPS = 8;
/** --quick measures at most this many points, evenly spread, always with both ends. */
export const QUICK_POINTS = 10;

/** The conditions a run measures, from the flags. Without shaping the network is taken as it is. */
export function planConditions(f: ConditionFlags): Condition[] {
  if (f.conditionsFile) {
    const given = Object.keys(f.levels).map((k) => FACTOR[k as ConditionKey].flag);
    if (given.length > 0) throw new UserError(`--conditions lists the conditions itself: drop ${given.join(', ')}`);
    const list = readConditionsFile(f.conditionsFile);
    if (!f.shape && needsShaping(list)) {
      throw new UserError(`${f.conditionsFile} shapes the network (${factorsAppliedBy('link').join('/')}) but --no-shape is set: drop --no-shape or those keys`);
    }
    return list;
  }
  const defaults = f.tiers ? TIER_LEVELS : f.quick ? QUICK_LEVELS : DEFAULT_LEVELS;
  if (!f.shape) {
    const linkFactors = [...factorsAppliedBy('link'), ...factorsAppliedBy('device-link')];
    const shapingFlags = linkFactors.filter((k) => f.levels[k] !== undefined);
    if (shapingFlags.length > 0) throw new UserError(`${shapingFlags.map((k) => FACTOR[k].flag).join(', ')} need shaping: drop --no-shape, or drop them`);
    const unshaped = Object.fromEntries(linkFactors.map((k) => [k, [FACTOR[k].neutral]]));
    return conditionsFor(levelsFrom(f.levels, { ...defaults, ...unshaped }), f.design);
  }
  return conditionsFor(levelsFrom(f.levels, defaults), f.design);
}

export function needsShaping(conditions: Condition[]): boolean {
  return conditions.some((c) => isShaped(c) || changesAt(c, 'device-link'));
}

/** An evenly spread subset of points that keeps the first (cloud-only) and the last (edge-only). */
export function spreadPoints(cuts: CutPoint[], n: number): CutPoint[] {
  if (cuts.length <= n) return cuts;
  const picked = new Set<number>();
  for (let i = 0; i < n; i++) picked.add(Math.round((i * (cuts.length - 1)) / (n - 1)));
  return [...picked].sort((a, b) => a - b).map((i) => cuts[i]!);
}

/** Which factors vary in a list of conditions (for a one-line description of the grid). */
export function describeGrid(conditions: Condition[]): string {
  const varying = CONDITION_KEYS.filter((k) => new Set(conditions.map((c) => c[k])).size > 1);
  const levels = varying.map((k) => `${k} ${[...new Set(conditions.map((c) => c[k] ?? 'none'))].join('/')}`);
  return `${conditions.length} condition${conditions.length === 1 ? '' : 's'}${levels.length ? ` (${levels.join(', ')})` : ''}`;
}
