import { findBaseline } from '../conditions/baseline.js';
import { conditionKey, isShaped, type Condition } from '../conditions/condition.js';
import { rng, shuffled } from '../random.js';

/**
 * The order of a run, as pure functions of the plan and a seed (recorded in the metadata), so that
 * slow drift of the machine hits every point and condition alike instead of reading as an effect:
 * - conditions run in blocks of one network shaping (few rate changes), the baseline's block first
 *   and the baseline first in it (the reference point is its best); within a block the order is
 *   shuffled (--order randomized) or kept as listed (sequential);
 * - within a condition the points are cycled rep by rep (A B C, C A B, ...), each cycle shuffled;
 * - the reference cell (the baseline's best point) is measured again after the baseline and then
 *   every K conditions, and once more at the end.
 */

export const ORDERS = ['randomized', 'sequential'] as const;
export type Order = (typeof ORDERS)[number];
/** --reference-every default: often enough to see drift, rarely enough to cost little (one point, one condition switch). */
export const DEFAULT_REFERENCE_EVERY = 4;

/** What shapes the link: conditions sharing it need no tc change between them. */
function shapingKey(c: Condition): string {
  return isShaped(c) ? `${c.net};${c.delay};${c.jitter};${c.loss}` : 'unshaped';
}

/** The conditions in run order (see above). */
export function orderConditions(conditions: Condition[], order: Order, seed: number): Condition[] {
  if (conditions.length === 0) return [];
  const baseline = conditions[findBaseline(conditions).index]!;
  const blocks = new Map<string, Condition[]>();
  blocks.set(shapingKey(baseline), []);
  for (const c of conditions) {
    const k = shapingKey(c);
    blocks.set(k, [...(blocks.get(k) ?? []), c]);
  }
  const random = rng(seed);
  const out: Condition[] = [];
  for (const block of blocks.values()) {
    const rest = block.filter((c) => c !== baseline);
    const ordered = order === 'randomized' ? shuffled(rest, random) : rest;
    out.push(...(block.includes(baseline) ? [baseline] : []), ...ordered);
  }
  return out;
}

export type Step = { kind: 'condition'; condition: Condition } | { kind: 'reference'; ref: number };

/**
 * The run's steps: every condition in order, with a reference measurement after the first (the
 * baseline), then after every `every` further conditions and at the end. every = 0: none.
 */
export function runSteps(ordered: Condition[], every: number): Step[] {
  const steps: Step[] = [];
  let ref = 0;
  let since = 0;
  ordered.forEach((condition, i) => {
    steps.push({ kind: 'condition', condition });
    if (every <= 0) return;
    since++;
    if (i === 0 || since >= every) {
      steps.push({ kind: 'reference', ref: ref++ });
      since = 0;
    }
  });
  if (every > 0 && since > 0) steps.push({ kind: 'reference', ref: ref++ });
  return steps;
}

/** `cycles` shuffled permutations of `items`: the point order of each rep within one condition. */
export function cycleOrders<T>(items: readonly T[], cycles: number, random: () => number): T[][] {
  return Array.from({ length: cycles }, () => shuffled(items, random));
}

/** The random source of one condition's cycles: from the run's seed and the condition, so a resumed run draws the same. */
export function conditionRandom(seed: number, condition: Condition): () => number {
  let h = seed >>> 0;
  for (const ch of conditionKey(condition)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return rng(h);
}

/** A fresh seed when none is given (recorded in the metadata, so the order can be replayed). */
export function newScheduleSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}
