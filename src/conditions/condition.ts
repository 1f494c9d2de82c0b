/**
 * One operational condition under which every partition point is measured.
 * Network: rate in Mbit/s (null = not shaped, the link as it is), netem delay/jitter in ms, loss in %.
 * Stress: percent levels; CPU P % = one worker per core at P % duty cycle,
 * memory P % = allocate and hold P % of the memory available when the condition starts.
 */
export interface Condition {
  net: number | null;
  delay: number;
  jitter: number;
  loss: number;
  ecpu: number;
  emem: number;
  ccpu: number;
  cmem: number;
}

/** Keys in the order they appear in result tags. */
export const CONDITION_KEYS = ['net', 'delay', 'jitter', 'loss', 'ecpu', 'emem', 'ccpu', 'cmem'] as const;
export type ConditionKey = (typeof CONDITION_KEYS)[number];

/** The unstressed, unshaped condition: what a run without condition flags measures. */
export const NO_CONDITION: Condition = { net: null, delay: 0, jitter: 0, loss: 0, ecpu: 0, emem: 0, ccpu: 0, cmem: 0 };

/** Stable text key of a condition, e.g. "net=10;delay=0;jitter=0;loss=0;ecpu=50;emem=0;ccpu=0;cmem=100". */
export function conditionKey(c: Condition): string {
  return CONDITION_KEYS.map((k) => `${k}=${formatValue(c[k])}`).join(';');
}

export function formatValue(v: number | null): string {
  return v === null ? 'none' : String(v);
}
