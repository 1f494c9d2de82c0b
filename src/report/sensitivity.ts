import { CONDITION_KEYS, FACTOR, compareLevel, type Condition, type ConditionKey, type FactorName } from '../conditions/factors.js';
import type { SensitivityLevel, SensitivityRow } from './model.js';

/** What one condition contributes to the sensitivity analysis. */
export interface ConditionOutcome {
  condition: Condition;
  bestCut: string;
  bestMs: number;
  deployedMs: number | null;
}

/**
 * One row per factor that varies. Conditions are compared only with conditions that differ in that
 * factor alone (a full factorial has many such groups, a one-factor-at-a-time sweep one per factor),
 * so other factors never leak into a factor's effect.
 */
export function sensitivity(outcomes: ConditionOutcome[]): SensitivityRow[] {
  const rows: SensitivityRow[] = [];
  for (const key of CONDITION_KEYS) {
    const values = new Set(outcomes.map((o) => o.condition[key]));
    if (values.size < 2) continue;
    rows.push(factorRow(key, groupsVaryingOnly(outcomes, key)));
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

function factorRow(key: ConditionKey, groups: ConditionOutcome[][]): SensitivityRow {
  const changes: number[] = [];
  let pairs = 0;
  let moved = 0;
  const byLevel = new Map<number | null, ConditionOutcome[]>();
  for (const group of groups) {
    const sorted = [...group].sort((a, b) => compareLevel(key, a.condition[key], b.condition[key]));
    const ref = sorted[0]!;
    for (const o of sorted.slice(1)) {
      pairs++;
      if (o.bestCut !== ref.bestCut) moved++;
      if (o.deployedMs !== null && ref.deployedMs !== null) changes.push(o.deployedMs / ref.deployedMs - 1);
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
  };
}

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}
