import { CONDITION_KEYS, FACTOR, FACTORS, type Condition, type ConditionKey, type FactorEnd } from './factors.js';

/** Conditions as values: their neutral form, their text key, and which ends they change. Factors are in factors.ts. */
export { CONDITION_KEYS, type Condition, type ConditionKey } from './factors.js';

/** The unstressed, unshaped condition: what a run without condition flags measures. */
export const NO_CONDITION: Condition = Object.fromEntries(FACTORS.map((f) => [f.key, f.neutral])) as Condition;

/**
 * Stable text key of a condition, e.g. "net=10;delay=0;jitter=0;loss=0;ecpu=50;emem=0;ccpu=0;cmem=100";
 * an optional factor (the three-tier device link, `;dnet=V`) only when it is set.
 */
export function conditionKey(c: Condition): string {
  return CONDITION_KEYS.filter((k) => !isUnsetOptional(k, c[k]))
    .map((k) => `${k}=${formatValue(c[k])}`)
    .join(';');
}

/** An optional factor at its neutral level (or missing from a hand-made condition): left out of keys and report columns. */
export function isUnsetOptional(k: ConditionKey, v: number | null | undefined): boolean {
  return FACTOR[k].optional === true && (v === undefined || v === FACTOR[k].neutral);
}

export function formatValue(v: number | null): string {
  return v === null ? 'none' : String(v);
}

/** Whether c sets any factor that `end` applies away from its neutral level. */
export function changesAt(c: Condition, end: FactorEnd): boolean {
  return CONDITION_KEYS.some((k) => FACTOR[k].end === end && c[k] !== FACTOR[k].neutral);
}

/** The link part of a condition as a text key ("net=10;delay=0;jitter=0;loss=0"): conditions with equal keys shape the link alike. */
export function linkKey(c: Condition): string {
  return CONDITION_KEYS.filter((k) => FACTOR[k].end === 'link')
    .map((k) => `${k}=${formatValue(c[k])}`)
    .join(';');
}

/** Whether c shapes the network (a rate, delay, jitter or loss): tc is needed. */
export function isShaped(c: Condition): boolean {
  return changesAt(c, 'link');
}

/** Whether c stresses either end. */
export function isStressed(c: Condition): boolean {
  return changesAt(c, 'edge') || changesAt(c, 'cloud');
}
