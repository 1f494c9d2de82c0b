import { type Condition, NO_CONDITION, conditionKey } from '../conditions/condition.js';
import { CONDITION_KEYS, FACTOR } from '../conditions/factors.js';

/**
 * Result tags: every histogram in a results file is tagged with its condition, partition point and
 * metric as `key=value` pairs joined by `;`, e.g.
 *   net=10;delay=0;jitter=0;loss=0;ecpu=50;emem=0;ccpu=0;cmem=100;cut=conv_pw_5_relu;metric=total
 * `net=none` means the link was not shaped. A cell whose crossing was encoded (a codec other than
 * f32) has `;codec=NAME` right after the cut (`cut=input_1;codec=jpeg:90`); f32 cells have none, as
 * before codecs existed. Values never contain `,` `;` `=` or whitespace (HdrHistogram's log format
 * ends a tag at the first comma).
 */

/** The latencies every cell has, in µs: what the analysis compares and sums. */
export const METRICS = ['edge', 'transfer', 'cloud', 'total'] as const;
export type Metric = (typeof METRICS)[number];

/**
 * What crossed the wire, written for every cell of a run with codecs (--codec/--input-codec beyond
 * f32): `encode` (edge, µs) and `decode` (cloud, µs) are times; `bytes` is the INFER frame's size per
 * request, a count of bytes, NOT a time: keep it out of anything that sums or compares latencies.
 */
export const WIRE_METRICS = ['encode', 'decode', 'bytes'] as const;
export type WireMetric = (typeof WIRE_METRICS)[number];

/** Every metric a tag may name, in the order a cell's lines are written. */
export const ALL_METRICS = [...METRICS, ...WIRE_METRICS] as const;
export type AnyMetric = Metric | WireMetric;

export function isLatencyMetric(m: string): m is Metric {
  return (METRICS as readonly string[]).includes(m);
}

/** A cell's histograms: the latencies always, the wire metrics in a run with codecs. */
export type CellMetrics<H> = Record<Metric, H> & Partial<Record<WireMetric, H>>;

/** The wire codec label of an unencoded crossing (raw float32): never written in a tag. */
export const F32_CODEC = 'f32';

export interface CellTag {
  condition: Condition;
  /** name of the layer that produces the crossing tensor (as dnn-cut prints it) */
  cut: string;
  /** the wire codec label when not f32 (`f16`, `int8`, `jpeg:90`, ...); absent for f32 */
  codec?: string;
  metric: AnyMetric;
  /**
   * set on a re-measurement of the reference cell (drift control, `ref=N`, N = 0, 1, ...): kept apart
   * from the cell itself, never merged into it
   */
  ref?: number;
}

export function formatTag(t: CellTag): string {
  return `${conditionKey(t.condition)};cut=${t.cut}${codecPart(t.codec)};metric=${t.metric}${t.ref === undefined ? '' : `;ref=${t.ref}`}`;
}

function codecPart(codec: string | undefined): string {
  return codec === undefined || codec === F32_CODEC ? '' : `;codec=${codec}`;
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
  if (!metric || !(ALL_METRICS as readonly string[]).includes(metric)) throw new TagError(`metric '${metric ?? ''}' is not one of ${ALL_METRICS.join(', ')}`);
  const codec = fields.get('codec');
  if (codec !== undefined && (codec === '' || codec === F32_CODEC)) throw new TagError(`codec=${codec} is not an encoded crossing's codec (f32 cells carry no codec=)`);
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
  return { condition, cut, ...(codec === undefined ? {} : { codec }), metric: metric as AnyMetric, ...(ref === undefined ? {} : { ref: Number(ref) }) };
}

/**
 * Key of a (condition, cut, codec) cell, the unit that is measured, resumed and merged; an f32
 * cell's key is what it was before codecs (no codec part).
 */
export function cellKey(condition: Condition, cut: string, ref?: number, codec?: string): string {
  return `${conditionKey(condition)};cut=${cut}${codecPart(codec)}${ref === undefined ? '' : `;ref=${ref}`}`;
}
