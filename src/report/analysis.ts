import { CONDITION_KEYS, FACTOR, FACTORS, compareLevel, type Condition, type ConditionKey, type Factors } from '../conditions/factors.js';
import type { ConditionData, CutRef, PointRef, PointRow, Statistic } from './model.js';

/** Per-condition analysis: pure functions over already loaded stats. */

/** A condition under the report's JSON names, in tag order. */
export function factorsOf(c: Condition): Factors {
  return Object.fromEntries(FACTORS.map((f) => [f.field, c[f.key]])) as Factors;
}

/** Stable display order: the baseline-like conditions first, factor by factor in tag order. */
export function compareConditions(a: Condition, b: Condition): number {
  for (const k of CONDITION_KEYS) {
    const d = compareLevel(k, a[k], b[k]);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The baseline condition: the highest rate, no delay/jitter/loss, zero stress. When there is no
 * such condition, the one with the fewest factors away from their most favourable level, then the
 * mildest (lowest summed level ranks). Returns its position and whether it is the exact baseline.
 */
export function findBaseline(conditions: Condition[]): { index: number; exact: boolean } {
  if (conditions.length === 0) throw new Error('findBaseline: no conditions');
  const levels = new Map<ConditionKey, (number | null)[]>();
  for (const k of CONDITION_KEYS) {
    const values = [...new Set(conditions.map((c) => c[k]))].sort((a, b) => compareLevel(k, a, b));
    levels.set(k, values);
  }
  const score = (c: Condition): [number, number] => {
    let away = 0;
    let ranks = 0;
    for (const k of CONDITION_KEYS) {
      const rank = levels.get(k)!.indexOf(c[k]);
      if (!isIdeal(k, c[k], levels.get(k)![0]!)) away++;
      ranks += rank;
    }
    return [away, ranks];
  };
  let best = 0;
  let bestScore = score(conditions[0]!);
  conditions.forEach((c, i) => {
    const s = score(c);
    if (s[0] < bestScore[0] || (s[0] === bestScore[0] && s[1] < bestScore[1])) {
      best = i;
      bestScore = s;
    }
  });
  const exact = CONDITION_KEYS.every((k) => isIdeal(k, conditions[best]![k], levels.get(k)![0]!));
  return { index: best, exact };
}

/** A level is ideal when it is the most favourable seen of a 'higher' factor (the fastest rate), or the neutral level (zero) of the others. */
function isIdeal(k: ConditionKey, v: number | null, mostFavourable: number | null): boolean {
  return FACTOR[k].better === 'higher' ? v === mostFavourable : v === FACTOR[k].neutral;
}

/** Every measured point of a condition, in model order, at the chosen statistic. Points without a total are left out. */
export function pointRows(data: ConditionData, cuts: CutRef[], stat: Statistic): PointRow[] {
  const rows: PointRow[] = [];
  for (const { cut, index } of cuts) {
    const cell = data.cells.get(cut);
    if (!cell?.total) continue;
    rows.push({
      cut,
      index,
      edge_ms: cell.edge ? cell.edge[stat] : null,
      transfer_ms: cell.transfer ? cell.transfer[stat] : null,
      cloud_ms: cell.cloud ? cell.cloud[stat] : null,
      total_ms: cell.total[stat],
      total_p95_ms: cell.total.p95,
      samples: cell.total.samples,
    });
  }
  return rows;
}

/** The point with the lowest total; ties go to the earlier point. */
export function bestPoint(rows: PointRow[]): PointRow | undefined {
  let best: PointRow | undefined;
  for (const r of rows) if (!best || r.total_ms < best.total_ms) best = r;
  return best;
}

/** The extreme points: first (least computed on the edge, "cloud-only") and last ("edge-only"). */
export function extremePoints(rows: PointRow[], cuts: CutRef[]): { cloudOnly: PointRef | null; edgeOnly: PointRef | null } {
  const ref = (cut: CutRef | undefined): PointRef | null => {
    const row = cut && rows.find((r) => r.cut === cut.cut);
    return row ? { cut: row.cut, total_ms: row.total_ms } : null;
  };
  return { cloudOnly: ref(cuts[0]), edgeOnly: ref(cuts[cuts.length - 1]) };
}

/** How many times faster the best point is than another one (>= 1). */
export function speedup(best: PointRef, other: PointRef | null): number | null {
  return other ? other.total_ms / best.total_ms : null;
}
