import { CONDITION_KEYS, FACTOR, compareLevel, type Condition, type ConditionKey, type FactorName } from '../conditions/factors.js';
import type { PointVsBest, SensitivityEffect, SensitivityLevel, SensitivityMove, SensitivityRow, Significance } from './findings.js';
import { compareDistributions, type Distribution } from './significance.js';

/** What one condition contributes to the sensitivity analysis. */
export interface ConditionOutcome {
  condition: Condition;
  bestCut: string;
  bestMs: number;
  deployedMs: number | null;
  /** condition key (for naming moves) */
  key: string;
  /** the deployed point's latency distribution here; null when unknown */
  deployedDist: Distribution | null;
  /** every point against this condition's best; null when significance is unknown */
  verdicts: Map<string, PointVsBest> | null;
  /** a raced run: the points that left the race here, with their samples */
  raced?: ReadonlyMap<string, number>;
}

/**
 * One row per factor that varies. Conditions are compared only with conditions that differ in that
 * factor alone (a full factorial has many such groups, a one-factor-at-a-time sweep one per factor),
 * so other factors never leak into a factor's effect.
 */
export function sensitivity(outcomes: ConditionOutcome[], confidence = 0.95): SensitivityRow[] {
  const rows: SensitivityRow[] = [];
  for (const key of CONDITION_KEYS) {
    const values = new Set(outcomes.map((o) => o.condition[key]));
    if (values.size < 2) continue;
    rows.push(factorRow(key, groupsVaryingOnly(outcomes, key), confidence));
  }
  return rows;
}

function groupsVaryingOnly(outcomes: ConditionOutcome[], key: ConditionKey): ConditionOutcome[][] {
  const groups = new Map<string, ConditionOutcome[]>();
  for (const o of outcomes) {
    const rest = CONDITION_KEYS.filter((k) => k !== key)
      .map((k) => `${k}=${o.condition[k]}`)
      .join(';');
    const g = groups.get(rest);
    if (g) g.push(o);
    else groups.set(rest, [o]);
  }
  return [...groups.values()].filter((g) => g.length > 1);
}

function factorRow(key: ConditionKey, groups: ConditionOutcome[][], confidence: number): SensitivityRow {
  const changes: number[] = [];
  const effects: SensitivityEffect[] = [];
  const pairCount = groups.reduce((n, g) => n + g.length - 1, 0);
  let pairs = 0;
  let moved = 0;
  let notSignificant = 0;
  const moves: SensitivityMove[] = [];
  const byLevel = new Map<number | null, ConditionOutcome[]>();
  for (const group of groups) {
    const sorted = [...group].sort((a, b) => compareLevel(key, a.condition[key], b.condition[key]));
    const ref = sorted[0]!;
    for (const o of sorted.slice(1)) {
      pairs++;
      if (o.bestCut !== ref.bestCut) {
        const move = moveOf(ref, o);
        moves.push(move);
        if (move.significance === 'not significant') notSignificant++;
        else moved++; // significant, or unknown (no spread recorded): counted as the published study did
      }
      if (o.deployedMs !== null && ref.deployedMs !== null) {
        const change = o.deployedMs / ref.deployedMs - 1;
        changes.push(change);
        // the factor's effect on the deployed point, with its interval (corrected over the row's pairs)
        const g = o.deployedDist && ref.deployedDist ? compareDistributions(o.deployedDist, ref.deployedDist, { confidence, comparisons: pairCount }) : null;
        effects.push({ from: ref.key, to: o.key, change, low: g && Number.isFinite(g.low) ? g.low : null, high: g && Number.isFinite(g.high) ? g.high : null, significance: !g ? 'unknown' : g.significant ? 'significant' : 'not significant' });
      }
    }
    for (const o of group) {
      const list = byLevel.get(o.condition[key]);
      if (list) list.push(o);
      else byLevel.set(o.condition[key], [o]);
    }
  }
  const levels: SensitivityLevel[] = [...byLevel.entries()]
    .sort(([a], [b]) => compareLevel(key, a, b))
    .map(([value, list]) => {
      const deployed = list.flatMap((o) => (o.deployedMs === null ? [] : [o.deployedMs]));
      return { value, conditions: list.length, deployed_ms: deployed.length ? mean(deployed) : null, best_ms: mean(list.map((o) => o.bestMs)) };
    });
  return {
    factor: FACTOR[key].field as FactorName,
    levels,
    pairs,
    deployed_change_mean: changes.length ? mean(changes) : null,
    deployed_change_max: changes.length ? Math.max(...changes) : null,
    best_moved: moved,
    best_moved_frac: pairs ? moved / pairs : 0,
    best_moved_not_significant: notSignificant,
    moves,
    deployed_change_significant: effects.filter((e) => e.significance === 'significant').length,
    effects,
  };
}

/** The move from ref's best to o's best, judged where it matters: under o, is o's best significantly faster than ref's? */
function moveOf(ref: ConditionOutcome, o: ConditionOutcome): SensitivityMove {
  const v = o.verdicts?.get(ref.bestCut);
  const significance: Significance = !v ? 'unknown' : v.tie ? 'not significant' : 'significant';
  const raced = o.raced?.get(ref.bestCut);
  return { from: ref.key, to: o.key, from_cut: ref.bestCut, to_cut: o.bestCut, gain: v ? v.gain : null, low: v ? v.low : null, high: v ? v.high : null, significance, ...(raced !== undefined ? { from_raced_samples: raced } : {}) };
}

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}
