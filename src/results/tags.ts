import { type Condition, NO_CONDITION, conditionKey } from '../conditions/condition.js';
import { CONDITION_KEYS, FACTOR } from '../conditions/factors.js';

/**
 * Result tags: every histogram in a results file is tagged with its condition, partition point and
 * metric as `key=value` pairs joined by `;`, e.g.
 *   net=10;delay=0;jitter=0;loss=0;ecpu=50;emem=0;ccpu=0;cmem=100;cut=conv_pw_5_relu;metric=total
 * `net=none` means the link was not shaped. Values never contain `,` `;` `=` or whitespace
 * (HdrHistogram's log format ends a tag at the first comma).
 */
/** The four latency metrics every cell has (µs); files written before codecs existed have only these. */
export const METRICS = ['edge', 'transfer', 'cloud', 'total'] as const;
export type Metric = (typeof METRICS)[number];
/**
 * Written for every cell of a run that sets --codec/--input-codec: `encode` (edge encode, µs),
 * `decode` (cloud decode, µs) and `bytes` (INFER frame bytes on the wire per request: a count, never a time).
 */
export const CODEC_METRICS = ['encode', 'decode', 'bytes'] as const;
export type CodecMetric = (typeof CODEC_METRICS)[number];
/**
 * Written for every cell of a scenario other than `single` (frames in flight): `queue_edge` (frame
 * arrival -> its edge compute started, µs) and `queue_cloud` (the cloud's queueing, from its RESULT, µs).
 */
export const STREAM_METRICS = ['queue_edge', 'queue_cloud'] as const;
export type StreamMetric = (typeof STREAM_METRICS)[number];
/**
 * Written for every cell of a three-tier run (`--tiers 3`, tagged `cut2=`), before the 4 METRICS:
 * `device` (the device's compute up to x, preprocessing included, µs) and `device_transfer` (the
 * device's round trip to the edge tier minus the edge tier's own time for the request, µs). There
 * `edge` is the edge tier's compute (x to y) and `transfer` its link to the cloud.
 */
export const TIER_METRICS = ['device', 'device_transfer'] as const;
export type TierMetric = (typeof TIER_METRICS)[number];
/** The 6 metrics of a three-tier cell, in the order they are written. */
export const THREE_TIER_METRICS = [...TIER_METRICS, ...METRICS] as const;
/** Every metric a tag may name. */
export const ALL_METRICS = [...METRICS, ...CODEC_METRICS, ...STREAM_METRICS, ...TIER_METRICS] as const;
export type AnyMetric = (typeof ALL_METRICS)[number];
/** The codec of a cell that carries none: raw float32 (and, at the input point, raw float32 pixels). */
export const DEFAULT_CODEC = 'f32';

export interface CellTag {
  condition: Condition;
  /** name of the layer that produces the crossing tensor (as dnn-cut prints it) */
  cut: string;
  metric: AnyMetric;
  /**
   * three-tier runs: the second cut y (`cut2=`, right after `cut=`, which is then x): the device
   * computes up to x, the edge tier after x up to y, the cloud after y; absent in two-tier cells
   */
  cut2?: string;
  /** the wire codec of the crossing tensor when it is not f32 (`codec=`, right after `cut=` / `cut2=`) */
  codec?: string;
  /** the load scenario when it is not `single` (`scenario=`, after `codec=`): `stream:15`, `server:20`, `max` */
  scenario?: string;
  /** which edge measured the cell in a run of several edges (`edge=`, after `scenario=`; absent with one edge) */
  edge?: number;
  /**
   * set on a re-measurement of the reference cell (drift control, `ref=N`, N = 0, 1, ...): kept apart
   * from the cell itself, never merged into it
   */
  ref?: number;
}

export function formatTag(t: CellTag): string {
  return `${conditionKey(t.condition)};cut=${t.cut}${cut2Part(t.cut2)}${codecPart(t.codec)}${loadPart(t.scenario, t.edge)};metric=${t.metric}${t.ref === undefined ? '' : `;ref=${t.ref}`}`;
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
  const codec = fields.get('codec');
  if (codec === '') throw new TagError('codec= is empty');
  const scenario = fields.get('scenario');
  if (scenario === '') throw new TagError('scenario= is empty');
  const cut2 = fields.get('cut2');
  if (cut2 === '') throw new TagError('cut2= is empty');
  const edge = fields.get('edge');
  if (edge !== undefined && !/^\d+$/.test(edge)) throw new TagError(`edge=${edge} is not an edge number`);
  return {
    condition,
    cut,
    metric: metric as AnyMetric,
    ...(cut2 === undefined ? {} : { cut2 }),
    ...(codec === undefined || codec === DEFAULT_CODEC ? {} : { codec }),
    ...(scenario === undefined || scenario === SINGLE_SCENARIO ? {} : { scenario }),
    ...(edge === undefined ? {} : { edge: Number(edge) }),
    ...(ref === undefined ? {} : { ref: Number(ref) }),
  };
}

/** The scenario of a cell that carries none: one request at a time. */
export const SINGLE_SCENARIO = 'single';

/** `;scenario=LABEL[;edge=I]`, or nothing for `single` with one edge (files and cells as before scenarios). */
function loadPart(scenario: string | undefined, edge: number | undefined): string {
  const s = scenario === undefined || scenario === SINGLE_SCENARIO ? '' : `;scenario=${scenario}`;
  return `${s}${edge === undefined ? '' : `;edge=${edge}`}`;
}

/** `;cut2=Y` of a three-tier cell, or nothing (two-tier cells are unchanged). */
function cut2Part(cut2: string | undefined): string {
  return cut2 === undefined ? '' : `;cut2=${cut2}`;
}

/** `;codec=NAME`, or nothing for f32 (old files and f32 cells are unchanged). */
function codecPart(codec: string | undefined): string {
  return codec === undefined || codec === DEFAULT_CODEC ? '' : `;codec=${codec}`;
}

/**
 * Key of a (condition, cut[, cut2], codec[, scenario, edge]) cell, the unit that is measured, resumed and merged.
 * It is the cell's tag without `;metric=...` (the `cell` of its `#dnn-stream` and `#dnn-frame` lines).
 */
export function cellKey(condition: Condition, cut: string, ref?: number, codec?: string, scenario?: string, edge?: number, cut2?: string): string {
  return `${conditionKey(condition)};cut=${cut}${cut2Part(cut2)}${codecPart(codec)}${loadPart(scenario, edge)}${ref === undefined ? '' : `;ref=${ref}`}`;
}

/** The key of a parsed tag's cell (cellKey of its fields). */
export function tagCellKey(t: Omit<CellTag, 'metric'>): string {
  return cellKey(t.condition, t.cut, t.ref, t.codec, t.scenario, t.edge, t.cut2);
}
