import { type Condition, NO_CONDITION, conditionKey } from '../conditions/condition.js';
import { CONDITION_KEYS, FACTOR } from '../conditions/factors.js';

/**
 * Result tags: every histogram in a results file is tagged with its condition, partition point and
 * metric as `key=value` pairs joined by `;`, e.g.
 *   net=10;delay=0;jitter=0;loss=0;ecpu=50;emem=0;ccpu=0;cmem=100;cut=conv_pw_5_relu;metric=total
 * `net=none` means the link was not shaped. Values never contain `,` `;` `=` or whitespace
 * (HdrHistogram's log format ends a tag at the first comma).
 */
export const METRICS = ['edge', 'transfer', 'cloud', 'total'] as const;
export type Metric = (typeof METRICS)[number];

export interface CellTag {
  condition: Condition;
  /** name of the layer that produces the crossing tensor (as dnn-cut prints it) */
  cut: string;
  metric: Metric;
  /**
   * set on a re-measurement of the reference cell (drift control, `ref=N`, N = 0, 1, ...): kept apart
   * from the cell itself, never merged into it
   */
  ref?: number;
}

export function formatTag(t: CellTag): string {
  return `${conditionKey(t.condition)};cut=${t.cut};metric=${t.metric}${t.ref === undefined ? '' : `;ref=${t.ref}`}`;
}

export class TagError extends Error {}

/**
 * Parses a tag written by formatTag. Condition keys that are missing take their NO_CONDITION value
 * (files written before conditions existed carry only cut and metric). Throws TagError on anything
 * that is not one of our tags.
 */
export function parseTag(tag: string): CellTag {
  const fields = new Map<string, string>();
  for (const part of tag.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new TagError(`'${part}' is not a key=value pair`);
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const cut = fields.get('cut');
  const metric = fields.get('metric');
  if (!cut) throw new TagError('no cut= in tag');
  if (!metric || !(METRICS as readonly string[]).includes(metric)) throw new TagError(`metric '${metric ?? ''}' is not one of ${METRICS.join(', ')}`);
  const condition: Condition = { ...NO_CONDITION };
  for (const k of CONDITION_KEYS) {
    const v = fields.get(k);
    if (v === undefined) continue;
    if (FACTOR[k].allowNone && v === 'none') {
      (condition as Record<string, number | null>)[k] = null;
      continue;
    }
    const n = Number(v);
    if (v === '' || !Number.isFinite(n) || n < 0) throw new TagError(`${k}=${v} is not a non-negative number`);
    condition[k] = n;
  }
  const ref = fields.get('ref');
  if (ref !== undefined && !/^\d+$/.test(ref)) throw new TagError(`ref=${ref} is not a reference number`);
  return { condition, cut, metric: metric as Metric, ...(ref === undefined ? {} : { ref: Number(ref) }) };
}

/** Key of a (condition, cut) cell, the unit that is measured, resumed and merged. */
export function cellKey(condition: Condition, cut: string, ref?: number): string {
  return `${conditionKey(condition)};cut=${cut}${ref === undefined ? '' : `;ref=${ref}`}`;
}
