import { CONDITION_KEYS, FACTOR, compareLevel, type Condition, type ConditionKey } from './factors.js';

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
