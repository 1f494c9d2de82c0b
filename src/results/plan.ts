/**
 * The plan of a sweep and a shard of it, as results files record them (`plan` and `shard` in the
 * `#dnn-meta` line). Cells are numbered in sweep order: condition by condition, every point under each.
 */

export interface PlanRecord {
  /** hash of network, fingerprint, conditions, points, reps and warm-up: equal hash = same sweep */
  hash: string;
  network: string;
  fingerprint: string;
  /** conditionKey() of each condition, in sweep order */
  conditions: string[];
  /** names of the measured points, in sweep order */
  cuts: string[];
  reps: number;
  warmup: number;
}

export interface ShardRecord {
  /** 1-based: shard K of N */
  index: number;
  count: number;
  /** first cell of each shard, then the number of cells: shard k owns cells bounds[k-1] .. bounds[k]-1 */
  bounds: number[];
  /** estimated duration of this shard, seconds */
  predicted_s: number;
}

/** Cell i of a plan: indices of its condition and point. */
export function cellAt(plan: Pick<PlanRecord, 'cuts'>, i: number): { condition: number; cut: number } {
  return { condition: Math.floor(i / plan.cuts.length), cut: i % plan.cuts.length };
}

/** Key of cell i, as cellKey() makes it from a condition and a point. */
export function planCellKey(plan: Pick<PlanRecord, 'conditions' | 'cuts'>, i: number): string {
  const { condition, cut } = cellAt(plan, i);
  return `${plan.conditions[condition]!};cut=${plan.cuts[cut]!}`;
}

/** The shard (1-based) that owns cell i. */
export function ownerOf(bounds: readonly number[], i: number): number {
  let lo = 0;
  let hi = bounds.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (bounds[mid]! <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/** Keys of the cells shard k (1-based) owns. */
export function shardCells(plan: Pick<PlanRecord, 'conditions' | 'cuts'>, bounds: readonly number[], k: number): Set<string> {
  const out = new Set<string>();
  for (let i = bounds[k - 1]!; i < bounds[k]!; i++) out.add(planCellKey(plan, i));
  return out;
}
