import { CONDITION_KEYS, NO_CONDITION, type Condition, type ConditionKey } from '../conditions/condition.js';
import { STRESS_FACTORS, factorsAppliedBy } from '../conditions/factors.js';
import { parseLevel } from '../conditions/grid.js';
import { UserError } from '../errors.js';
import { inferFrameBytes } from '../protocol/frame-size.js';
import type { CellStats, ConditionData, CutRef, NetworkData, Statistic } from './cells.js';
import { median, weightedMedian } from './stats.js';
import { isImageCodec, meanBytes } from './arms.js';

/**
 * A cost model per arm (a partition point, or a (point, codec) pair: src/analysis/arms.ts), fitted
 * on measured results, that predicts every arm's total for conditions that were never measured
 * (Neurosurgeon-style, but from end-to-end measurements):
 *
 *   total(arm, c) = edge(point, stress) + encode(arm, stress) + transfer(arm, c) + decode(arm, stress) + cloud(point, stress)
 *   transfer      = fixed(arm, stress) + beta * wire_bits(arm) / rate + gamma * delay
 *
 * - edge and cloud compute: the median over every measured network condition of the same stress
 *   levels (compute does not depend on the link), and over every codec of the point (encoding and
 *   decoding are timed apart from it; at the input point a camera-frame codec's edge is its own: the
 *   cloud preprocesses, in its decode time); encode and decode: the arm's own medians (0 when not recorded);
 * - wire_bits: the INFER frame -- its measured mean bytes per request (the `bytes` metric) when
 *   recorded, else its float32 size as the protocol gives it (src/protocol/frame-size.ts) -- cut
 *   into TCP segments of MSS bytes, each with Ethernet, IP and TCP (timestamps) headers: what tbf counts;
 * - fixed: what does not scale with the shaped rate (the protocol's own cost at both ends, the
 *   reply, which the lab's shaper does not slow, the base round trip), per point and stress;
 * - beta and gamma: fitted by least squares across points when the data has two or more rates /
 *   delays, else their physical values (1: the link delivers its rate; a netem delay on the edge's
 *   egress adds once to a request-reply exchange). TCP's restart after idle does not matter for
 *   back-to-back requests (the gap is far below the retransmission timeout), so it is not modelled.
 * Jitter and loss are not modelled: predicting them is refused rather than guessed.
 * Every cell weighs as many samples as it holds (medians and least squares weighted by its count): a
 * point a raced sweep dropped after 1-3 samples still counts, but as 1-3 samples, not as --reps.
 * With equal counts (an exhaustive sweep) the weights are all 1 and the fit is the unweighted one.
 * Pure functions.
 */

/** TCP payload per segment on a 1500-byte MTU with timestamps (1500 - 20 IP - 32 TCP). */
export const TCP_MSS = 1448;
/** Bytes tc counts per segment besides the payload: Ethernet 14 + IP 20 + TCP with timestamps 32. */
export const SEGMENT_OVERHEAD = 14 + 20 + 32;

/** Bytes on the wire (as tc counts them) for an INFER frame carrying a float32 tensor of `dims`. */
export function wireBytes(dims: readonly number[]): number {
  return frameWireBytes(inferFrameBytes(dims));
}

/** Bytes on the wire (as tc counts them) for an INFER frame of `frame` bytes (0: nothing crosses). */
export function frameWireBytes(frame: number): number {
  return frame + Math.ceil(frame / TCP_MSS) * SEGMENT_OVERHEAD;
}

/**
 * The tensor a point's INFER carries: its shape with batch 1, as the edge sends it
 * (src/edge/measure.ts). Data that recorded only the tensor's size (no shape) gives a flat tensor
 * of as many float32 elements: the same payload, a rank of 2 in the header.
 */
export function inferDims(cut: CutRef, shape: readonly number[] | undefined): number[] {
  return shape ? [1, ...shape] : [1, cut.bytes! / 4];
}

/** The link factors the model covers; the other link factors (jitter, loss) are refused. */
const MODELLED_LINK = new Set<ConditionKey>(['net', 'delay']);
export type Stress = Partial<Condition>;

export function stressKey(c: Stress): string {
  return STRESS_FACTORS.map((k) => `${k}=${c[k]}`).join(';');
}

/** The link factors c sets that the model does not cover (it refuses to predict c when there are any). */
export function unmodelled(c: Condition): ConditionKey[] {
  return factorsAppliedBy('link').filter((k) => !MODELLED_LINK.has(k) && c[k] !== NO_CONDITION[k]);
}

interface StressFit {
  stress: Stress;
  /** per arm label, ms at the model's statistic (edge and cloud: the point's, shared by its codecs) */
  edge: Map<string, number>;
  cloud: Map<string, number>;
  fixed: Map<string, number>;
  /** per arm label: encode and decode ms (absent: not recorded, 0) */
  encode: Map<string, number>;
  decode: Map<string, number>;
}

export interface CostModel {
  network: string;
  metric: Statistic;
  /** arms in model order (arms the data cannot size are left out) */
  cuts: CutRef[];
  /** measured mean INFER frame bytes per request of each arm, when recorded */
  frames: Map<string, number>;
  /** points where nothing crosses (edge-only): no transfer, no cloud */
  local: Set<string>;
  /** wire bytes of each point's request */
  wire: Map<string, number>;
  /** by stressKey */
  stress: Map<string, StressFit>;
  beta: number;
  gamma: number;
  /** whether beta / gamma came from the data or are the physical defaults */
  fitted: { beta: boolean; gamma: boolean };
  /** the fastest link of the data, Mbit/s (null: an unshaped one) */
  fastest: number | null;
}

/**
 * Wire serialisation time in ms of `bytes` at `rate` Mbit/s (0 for an unshaped link). The shaper's
 * token bucket lets its burst (two 1514-byte packets, or 1 ms of the rate: src/conditions/tc.ts)
 * through at line speed, which matters for tensors of a few KB.
 */
export function wireMs(bytes: number, rate: number | null): number {
  if (rate === null) return 0;
  const burst = Math.max(2 * 1514, (rate * 1e6) / 8 / 1000);
  return (Math.max(0, bytes - burst) * 8) / (rate * 1000);
}

/**
 * Fits the model on a network's measured data, or says why it cannot be fitted (e.g. data without
 * the tensor sizes, as the published tool's outputs).
 */
export function fitCostModel(data: NetworkData, metric: Statistic): CostModel | { reason: string } {
  const cells = data.conditions.filter((c) => unmodelled(c.condition).length === 0);
  const frames = measuredFrames(data);
  // an f32 arm is sized by its measured bytes or else by its tensor; an encoded one only by its measured bytes (else left out)
  if (data.cuts.some((c) => c.codec === undefined && c.bytes === undefined && !data.shapes?.has(c.cut) && !frames.has(c.cut))) {
    return { reason: 'the data has no tensor sizes (results files without metadata, or the published tool\'s outputs)' };
  }
  if (cells.length === 0) return { reason: 'every measured condition has jitter or loss, which the model does not cover' };
  data = { ...data, cuts: data.cuts.filter((c) => c.codec === undefined || frames.has(c.cut)) };
  const wire = new Map(data.cuts.map((c) => [c.cut, frames.has(c.cut) ? frameWireBytes(frames.get(c.cut)!) : wireBytes(inferDims(c, data.shapes?.get(c.cut)))]));
  const stat = (cell: CellStats | undefined, m: 'edge' | 'cloud' | 'transfer' | 'encode' | 'decode') => cell?.[m]?.[metric];
  // a cell's weight: its samples over the fullest cell's (an unknown count, 0, is one sample)
  const fullest = Math.max(1, ...cells.flatMap((c) => [...c.cells.values()].map((x) => x.total?.samples ?? 0)));
  const weigh = (cell: CellStats | undefined, m: 'edge' | 'cloud' | 'transfer' | 'encode' | 'decode') => Math.max(1, cell?.[m]?.samples ?? 0) / fullest;
  /** the metric's values over cells, with their weights */
  const sampled = (list: (CellStats | undefined)[], m: 'edge' | 'cloud' | 'transfer' | 'encode' | 'decode') => {
    const vs: number[] = [];
    const ws: number[] = [];
    for (const cell of list) {
      const v = stat(cell, m);
      if (v === undefined) continue;
      vs.push(v);
      ws.push(weigh(cell, m));
    }
    return { vs, ws };
  };
  // compute is the point's, whatever crosses: every arm of a point measures it (the cloud's for every
  // codec; the edge's for every tensor codec -- a camera-frame codec leaves preprocessing to the cloud)
  const armsOf = new Map<string, CutRef[]>();
  for (const c of data.cuts) {
    const point = c.point ?? c.cut;
    armsOf.set(point, [...(armsOf.get(point) ?? []), c]);
  }
  const image = (c: CutRef) => c.codec !== undefined && isImageCodec(c.codec);
  const pointArms = (c: CutRef, m: 'edge' | 'cloud') => armsOf.get(c.point ?? c.cut)!.filter((a) => m === 'cloud' || image(a) === image(c)).map((a) => a.cut);

  // A point is local (edge-only) when nothing was ever sent for it.
  const local = new Set(
    data.cuts
      .filter((c) => {
        const seen = cells.map((d) => d.cells.get(c.cut)).filter((x): x is CellStats => x !== undefined);
        return seen.length > 0 && seen.every((x) => (x.transfer?.[metric] ?? 0) === 0 && (x.cloud?.[metric] ?? 0) === 0);
      })
      .map((c) => c.cut),
  );

  // Group by stress, then fit beta and gamma within (cut, stress) groups: demeaned least squares.
  const groups = new Map<string, ConditionData[]>();
  for (const c of cells) {
    const k = stressKey(c.condition);
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  type Obs = { group: string; y: number; x1: number; x2: number; w: number };
  const obs: Obs[] = [];
  for (const [k, conds] of groups) {
    for (const cut of data.cuts) {
      if (local.has(cut.cut)) continue;
      for (const c of conds) {
        const y = stat(c.cells.get(cut.cut), 'transfer');
        if (y === undefined) continue;
        obs.push({ group: `${k}|${cut.cut}`, y, x1: wireMs(wire.get(cut.cut)!, c.condition.net), x2: c.condition.delay, w: weigh(c.cells.get(cut.cut), 'transfer') });
      }
    }
  }
  const { beta, gamma, fitted } = fitSlopes(obs);

  const stress = new Map<string, StressFit>();
  for (const [k, conds] of groups) {
    const fit: StressFit = { stress: pickStress(conds[0]!.condition), edge: new Map(), cloud: new Map(), fixed: new Map(), encode: new Map(), decode: new Map() };
    for (const cut of data.cuts) {
      const pooled = (m: 'edge' | 'cloud') => sampled(conds.flatMap((c) => pointArms(cut, m).map((arm) => c.cells.get(arm))), m);
      const own = (m: 'encode' | 'decode') => sampled(conds.map((c) => c.cells.get(cut.cut)), m);
      const edges = pooled('edge');
      const clouds = pooled('cloud');
      const transfers = conds.map((c) => ({ c, cell: c.cells.get(cut.cut) })).filter(({ cell }) => stat(cell, 'transfer') !== undefined);
      const fixed = transfers.map(({ c, cell }) => stat(cell, 'transfer')! - beta * wireMs(wire.get(cut.cut)!, c.condition.net) - gamma * c.condition.delay);
      if (edges.vs.length === 0 || clouds.vs.length === 0 || fixed.length === 0) continue;
      fit.edge.set(cut.cut, weightedMedian(edges.vs, edges.ws));
      fit.cloud.set(cut.cut, weightedMedian(clouds.vs, clouds.ws));
      fit.fixed.set(cut.cut, local.has(cut.cut) ? 0 : Math.max(0, weightedMedian(fixed, transfers.map(({ cell }) => weigh(cell, 'transfer')))));
      const [encodes, decodes] = [own('encode'), own('decode')];
      if (encodes.vs.length) fit.encode.set(cut.cut, weightedMedian(encodes.vs, encodes.ws));
      if (decodes.vs.length) fit.decode.set(cut.cut, weightedMedian(decodes.vs, decodes.ws));
    }
    if (fit.edge.size > 0) stress.set(k, fit);
  }
  if (stress.size === 0) return { reason: 'no point has edge, transfer and cloud times measured' };
  const rates = cells.map((c) => c.condition.net);
  const fastest = rates.includes(null) ? null : Math.max(...(rates as number[]));
  return { network: data.network, metric, cuts: data.cuts, frames, local, wire, stress, beta, gamma, fitted, fastest };
}

/** Each arm's measured mean INFER frame bytes per request (the `bytes` metric), where recorded: the median over conditions. */
function measuredFrames(data: NetworkData): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of data.cuts) {
    const bytes = meanBytes(data, c.cut);
    if (bytes !== undefined) out.set(c.cut, bytes);
  }
  return out;
}

/** The stress levels (what either end applies) of a condition. */
export function pickStress(c: Condition): Stress {
  return Object.fromEntries(STRESS_FACTORS.map((k) => [k, c[k]]));
}

/**
 * y = a_group + beta*x1 + gamma*x2 by (weighted) least squares on group-demeaned data. A slope whose
 * regressor does not vary keeps its physical value 1; a fitted slope is kept within [0.5, 2]
 * (outside that, the data says more about noise than about the link).
 */
function fitSlopes(obs: { group: string; y: number; x1: number; x2: number; w: number }[]): { beta: number; gamma: number; fitted: { beta: boolean; gamma: boolean } } {
  const byGroup = new Map<string, typeof obs>();
  for (const o of obs) byGroup.set(o.group, [...(byGroup.get(o.group) ?? []), o]);
  const d: { y: number; x1: number; x2: number; w: number }[] = [];
  for (const g of byGroup.values()) {
    const weight = g.reduce((s, o) => s + o.w, 0);
    const mean = (f: (o: (typeof obs)[number]) => number) => g.reduce((s, o) => s + o.w * f(o), 0) / weight;
    const my = mean((o) => o.y);
    const m1 = mean((o) => o.x1);
    const m2 = mean((o) => o.x2);
    for (const o of g) d.push({ y: o.y - my, x1: o.x1 - m1, x2: o.x2 - m2, w: o.w });
  }
  // weighted by each cell's samples (all 1 with equal counts: ordinary least squares)
  const s = (f: (o: (typeof d)[number]) => number) => d.reduce((acc, o) => acc + o.w * f(o), 0);
  const s11 = s((o) => o.x1 * o.x1);
  const s22 = s((o) => o.x2 * o.x2);
  const s12 = s((o) => o.x1 * o.x2);
  const s1y = s((o) => o.x1 * o.y);
  const s2y = s((o) => o.x2 * o.y);
  const has1 = s11 > 1e-9;
  const has2 = s22 > 1e-9;
  const clamp = (v: number) => Math.min(2, Math.max(0.5, v));
  let beta = 1;
  let gamma = 1;
  if (has1 && has2) {
    const det = s11 * s22 - s12 * s12;
    if (Math.abs(det) > 1e-12) {
      beta = clamp((s1y * s22 - s2y * s12) / det);
      gamma = clamp((s2y * s11 - s1y * s12) / det);
    }
  } else if (has1) {
    beta = clamp(s1y / s11);
  } else if (has2) {
    gamma = clamp(s2y / s22);
  }
  return { beta, gamma, fitted: { beta: has1, gamma: has2 } };
}

export interface PredictedPoint {
  cut: string;
  index: number;
  edge_ms: number;
  transfer_ms: number;
  cloud_ms: number;
  total_ms: number;
  /** the arm's encode and decode (0 when not recorded) */
  encode_ms: number;
  decode_ms: number;
}

/** Every point's predicted times under `c`; throws a UserError for stress levels never measured. */
export function predictCondition(m: CostModel, c: Condition): PredictedPoint[] {
  const off = unmodelled(c);
  if (off.length) throw new UserError(`--predict: ${off.join(' and ')} ${off.length > 1 ? 'are' : 'is'} not in the cost model (only rate and delay); drop ${off.length > 1 ? 'them' : 'it'} or measure those conditions`);
  const fit = m.stress.get(stressKey(c));
  if (!fit) {
    throw new UserError(`--predict: ${m.network} was never measured at ${stressKey(c)}; the model predicts the network only, under measured stress levels: ${[...m.stress.keys()].join(' | ')}`);
  }
  const out: PredictedPoint[] = [];
  for (const cut of m.cuts) {
    const edge = fit.edge.get(cut.cut);
    if (edge === undefined) continue;
    const local = m.local.has(cut.cut);
    const transfer = local ? 0 : fit.fixed.get(cut.cut)! + m.beta * wireMs(m.wire.get(cut.cut)!, c.net) + m.gamma * c.delay;
    const cloud = local ? 0 : fit.cloud.get(cut.cut)!;
    const encode = fit.encode.get(cut.cut) ?? 0;
    const decode = fit.decode.get(cut.cut) ?? 0;
    out.push({ cut: cut.cut, index: cut.index, edge_ms: edge, transfer_ms: transfer, cloud_ms: cloud, total_ms: edge + transfer + cloud + encode + decode, encode_ms: encode, decode_ms: decode });
  }
  return out;
}

/** As stats, so predicted conditions go through the same analysis as measured ones. */
export function predictedData(m: CostModel, conditions: Condition[]): ConditionData[] {
  return conditions.map((c) => {
    const cells = new Map<string, CellStats>();
    for (const p of predictCondition(m, c)) {
      const one = (v: number) => ({ p50: v, p95: v, mean: v, samples: 0 });
      const stats: CellStats = { edge: one(p.edge_ms), transfer: one(p.transfer_ms), cloud: one(p.cloud_ms), total: one(p.total_ms) };
      // what the model knows of the encoding: the arm's measured bytes and encode/decode times
      const frame = m.frames.get(p.cut);
      if (frame !== undefined) Object.assign(stats, { encode: one(p.encode_ms), decode: one(p.decode_ms), bytes: one(frame) });
      cells.set(p.cut, stats);
    }
    return { condition: c, cells };
  });
}

export interface RateRange {
  cut: string;
  /** Mbit/s; the point is best for rates above min (0 = any lower rate) and up to max (null = no limit) */
  min_mbit: number;
  max_mbit: number | null;
}

export interface RateThresholds {
  /** the stress levels, e.g. "ecpu=0;emem=0;ccpu=0;cmem=0" */
  stress: string;
  /** added delay the ranges hold for (ms) */
  delay_ms: number;
  ranges: RateRange[];
}

/**
 * The rate ranges in which each point is best, for one stress level and delay: the best point is
 * found on a fine logarithmic grid of rates (0.01 Mbit/s to 100 Gbit/s), and each change of the best
 * point is located by bisection to 0.1 %.
 */
export function rateThresholds(m: CostModel, stress: string, delay = 0): RateThresholds {
  const fit = m.stress.get(stress)!;
  const probe: Condition = { ...NO_CONDITION, ...fit.stress, delay };
  const bestAt = (rate: number): string => {
    const rows = predictCondition(m, { ...probe, net: rate });
    return rows.reduce((a, b) => (b.total_ms < a.total_ms ? b : a)).cut;
  };
  const LO = 0.01;
  const HI = 100_000;
  const STEPS = 400;
  const ranges: RateRange[] = [];
  let prevRate = HI;
  let prevBest = bestAt(HI);
  let upper: number | null = null;
  for (let i = STEPS - 1; i >= 0; i--) {
    const rate = LO * (HI / LO) ** (i / STEPS);
    const best = bestAt(rate);
    if (best === prevBest) {
      prevRate = rate;
      continue;
    }
    // The change lies in (rate, prevRate]: bisect in log space.
    let lo = rate;
    let hi = prevRate;
    while (hi / lo > 1.001) {
      const mid = Math.sqrt(lo * hi);
      if (bestAt(mid) === prevBest) hi = mid;
      else lo = mid;
    }
    ranges.push({ cut: prevBest, min_mbit: hi, max_mbit: upper });
    upper = hi;
    prevBest = best;
    prevRate = rate;
  }
  ranges.push({ cut: prevBest, min_mbit: 0, max_mbit: upper });
  return { stress, delay_ms: delay, ranges };
}

/** Every stress level's thresholds at no added delay, for the default report. */
export function allRateThresholds(m: CostModel): RateThresholds[] {
  return [...m.stress.keys()].map((k) => rateThresholds(m, k, 0));
}

/**
 * Parses --predict: factor lists in the tag syntax, e.g. "net=5,2,1;delay=0,20", expanded to
 * every combination. Unnamed network factors are 0 (rate: unshaped). When no stress factor is
 * named, every measured stress combination is predicted (so "net=5" is predicted under each
 * measured stress); once one is named, the unnamed ones are 0.
 */
export type PredictLevels = Partial<Record<(typeof CONDITION_KEYS)[number], (number | null)[]>>;

export function parsePredictSpec(spec: string): PredictLevels {
  const levels: PredictLevels = {};
  for (const part of spec.split(';').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z]+)\s*=\s*(.+)$/.exec(part);
    if (!m) throw new UserError(`--predict: '${part}' is not key=list; write e.g. --predict "net=5,2,1;delay=0,20"`);
    const key = m[1] as (typeof CONDITION_KEYS)[number];
    if (!(CONDITION_KEYS as readonly string[]).includes(key)) throw new UserError(`--predict: unknown factor '${m[1]}'; factors are ${CONDITION_KEYS.join(', ')}`);
    if (levels[key]) throw new UserError(`--predict: factor '${key}' is given twice`);
    levels[key] = m[2]!.split(',').map((v) => parseLevel(key, v, `--predict ${key}`));
  }
  if (Object.keys(levels).length === 0) throw new UserError('--predict needs at least one factor, e.g. --predict "net=5,2,1;delay=0,20"');
  return levels;
}

/** The conditions of a --predict grid for a model: named factors crossed with the measured stress levels. */
export function predictConditions(m: CostModel, levels: PredictLevels): Condition[] {
  return gridConditions([...m.stress.values()].map((f) => f.stress), levels);
}

/** The conditions of a --predict grid: named factors crossed with `measured` stress levels (unless a stress factor is named). */
export function gridConditions(measured: Stress[], levels: PredictLevels): Condition[] {
  const stressNamed = STRESS_FACTORS.some((k) => levels[k] !== undefined);
  let base: Condition[] = stressNamed ? [{ ...NO_CONDITION }] : measured.map((stress) => ({ ...NO_CONDITION, ...stress }));
  for (const key of CONDITION_KEYS) {
    const vs = levels[key];
    if (vs) base = base.flatMap((c) => vs.map((v) => ({ ...c, [key]: v })));
  }
  return base;
}

export interface PredictionCheck {
  key: string;
  measured_best: string;
  predicted_best: string;
  /** per point |predicted - measured| / measured of the total */
  errors: { cut: string; measured_ms: number; predicted_ms: number; error: number }[];
}

/**
 * Predictions against measurements the model was not fitted on: per measured condition, the best
 * point measured and predicted, and the relative error of every point's total.
 */
export function checkPredictions(m: CostModel, measured: NetworkData): { conditions: PredictionCheck[]; agreement: number; median_error: number; max_error: number } {
  const conditions: PredictionCheck[] = [];
  for (const c of measured.conditions) {
    if (unmodelled(c.condition).length || !m.stress.has(stressKey(c.condition))) continue;
    const predicted = predictCondition(m, c.condition);
    const errors = predicted
      .map((p) => {
        const got = c.cells.get(p.cut)?.total?.[m.metric];
        return got === undefined ? undefined : { cut: p.cut, measured_ms: got, predicted_ms: p.total_ms, error: Math.abs(p.total_ms - got) / got };
      })
      .filter((e): e is NonNullable<typeof e> => e !== undefined);
    if (errors.length === 0) continue;
    const lowest = (key: 'measured_ms' | 'predicted_ms') => errors.reduce((a, b) => (b[key] < a[key] ? b : a)).cut;
    conditions.push({ key: `${c.condition.net === null ? 'none' : c.condition.net} Mbit/s, delay ${c.condition.delay} ms, ${stressKey(c.condition)}`, measured_best: lowest('measured_ms'), predicted_best: lowest('predicted_ms'), errors });
  }
  const all = conditions.flatMap((c) => c.errors.map((e) => e.error));
  return {
    conditions,
    agreement: conditions.length ? conditions.filter((c) => c.measured_best === c.predicted_best).length / conditions.length : 0,
    median_error: all.length ? median(all) : 0,
    max_error: all.length ? Math.max(...all) : 0,
  };
}
