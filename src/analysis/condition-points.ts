import { CONDITION_KEYS, FACTORS, compareLevel, type Condition, type Factors } from '../conditions/factors.js';
import { isUnsetOptional } from '../conditions/condition.js';
import type { ConditionData, CutRef, Statistic } from './cells.js';
import type { PointRef, PointRow } from './findings.js';
import { DEFAULT_CODEC } from '../results/tags.js';

/** Per-condition analysis: pure functions over already loaded stats. */

/** A condition under the report's JSON names, in tag order. */
export function factorsOf(c: Condition): Factors {
  // an unset optional factor (the device link of two-tier runs) is left out: two-tier reports as before
  return Object.fromEntries(FACTORS.filter((f) => !isUnsetOptional(f.key, c[f.key])).map((f) => [f.field, c[f.key]])) as Factors;
}

/** Stable display order: the baseline-like conditions first, factor by factor in tag order. */
export function compareConditions(a: Condition, b: Condition): number {
  for (const k of CONDITION_KEYS) {
    const d = compareLevel(k, a[k], b[k]);
    if (d !== 0) return d;
  }
  return 0;
}

/** The baseline condition (shared with the run's schedule, which measures it first). */
export { findBaseline } from '../conditions/baseline.js';

/**
 * Every measured point of a condition, in model order, at the chosen statistic. Points without a total are left out.
 * `codecs`: data with codecs, whose rows also say their codec, bytes per request and encode/decode times.
 */
export function pointRows(data: ConditionData, cuts: CutRef[], stat: Statistic, codecs = false): PointRow[] {
  const rows: PointRow[] = [];
  for (const { cut, index, codec } of cuts) {
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
      ...racedOf(data, cut),
      vs_best: null, // filled in once the best point is known (moves.pointsAgainstBest)
      ...(codecs
        ? {
            codec: codec ?? DEFAULT_CODEC,
            bytes: cell.bytes ? cell.bytes.mean : null,
            encode_ms: cell.encode ? cell.encode[stat] : null,
            decode_ms: cell.decode ? cell.decode[stat] : null,
          }
        : {}),
    });
  }
  return rows;
}

/** A raced-out point's `raced` field (from its `#dnn-raced` line); nothing for a point that ran all --reps. */
function racedOf(data: ConditionData, cut: string): Pick<PointRow, 'raced'> {
  const l = data.raced?.get(cut);
  if (!l) return {};
  const { cell: _cell, ...rest } = l;
  return { raced: rest };
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
