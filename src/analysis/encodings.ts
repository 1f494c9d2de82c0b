import type { FidelityRecord } from '../results/metadata.js';
import { DEFAULT_CODEC } from '../results/tags.js';
import { isLossless, meanBytes, splitArm } from './arms.js';
import type { ConditionData, CutRef, NetworkData } from './cells.js';
import type { ArmFidelity, ConditionReport, EncodingChange, ExcludedArm, FidelityBudget, NetworkReport } from './findings.js';

/**
 * The answer over (point, codec) arms: which arms the fidelity budget admits, and how the answer
 * over them differs from the float32 one. Pure functions.
 */

/** Default --max-agreement-loss: percentage points of top-1 agreement with the f32 model an arm may lose. */
export const DEFAULT_MAX_AGREEMENT_LOSS = 1;

/** Does the network have encoded arms (codec cells)? Without them the report is exactly the f32 one. */
export function hasEncodedArms(data: NetworkData): boolean {
  return data.cuts.some((c) => c.codec !== undefined && c.codec !== DEFAULT_CODEC);
}

/** Does any cell carry codec data (an encoded arm, or the encode/decode/bytes metrics of a run that set a codec)? */
export function hasCodecData(data: NetworkData): boolean {
  return hasEncodedArms(data) || data.conditions.some((c) => [...c.cells.values()].some((cell) => cell.bytes !== undefined || cell.encode !== undefined));
}

/** Top-1 agreement lost against the f32 model, in percentage points. */
export function agreementLoss(top1Agreement: number): number {
  return 100 * (1 - top1Agreement);
}

/**
 * The fidelity record of each (point, codec): where several files measured one pair, the lowest
 * top-1 agreement (the budget is a promise, so the worst measurement counts).
 */
function worstRecords(records: readonly FidelityRecord[]): Map<string, FidelityRecord> {
  const out = new Map<string, FidelityRecord>();
  for (const r of records) {
    const key = `${r.cut}\0${r.codec}`;
    const prev = out.get(key);
    if (!prev || r.top1_agreement < prev.top1_agreement) out.set(key, r);
  }
  return out;
}

export interface ArmBudget {
  /** arm labels the budget admits (every f32 arm, lossless codecs, lossy ones measured within it) */
  admitted: Set<string>;
  budget: FidelityBudget;
  /** one line per excluded arm without a fidelity record, for the report's warnings */
  notes: string[];
}

/** Which arms stay within `maxLoss` percentage points of top-1 agreement lost against f32. */
export function judgeArms(data: NetworkData, maxLoss: number): ArmBudget {
  const records = worstRecords(data.fidelity ?? []);
  const admitted = new Set<string>();
  const excluded: ExcludedArm[] = [];
  const arms: ArmFidelity[] = [];
  for (const arm of data.cuts) {
    const { cut, codec } = armOf(arm);
    const record = records.get(`${cut}\0${codec}`);
    const f32 = codec === DEFAULT_CODEC;
    arms.push({
      arm: arm.cut,
      cut,
      codec,
      bytes: meanBytes(data, arm.cut) ?? record?.bytes ?? (f32 ? (arm.bytes ?? null) : null),
      // a lossless crossing gives the f32 model's own answer
      top1_agreement: record?.top1_agreement ?? (isLossless(codec) ? 1 : null),
      top5_agreement: record?.top5_agreement ?? (isLossless(codec) ? 1 : null),
      within_budget: false, // set below
    });
    const loss = record ? agreementLoss(record.top1_agreement) : isLossless(codec) ? 0 : null;
    if (loss === null) excluded.push({ arm: arm.cut, cut, codec, reason: 'no fidelity recorded', top1_loss: null });
    else if (loss > maxLoss + 1e-9) excluded.push({ arm: arm.cut, cut, codec, reason: 'over the budget', top1_loss: loss });
    else admitted.add(arm.cut);
  }
  for (const a of arms) a.within_budget = admitted.has(a.arm);
  const unrecorded = excluded.filter((e) => e.reason === 'no fidelity recorded').map((e) => e.arm);
  const notes = unrecorded.length
    ? [`${unrecorded.length} lossy arm(s) left out of the answer because no fidelity was recorded for them (${unrecorded.join(', ')}): record it with dnn-cut --codecs LIST --inputs ... or the sweep`]
    : [];
  return { admitted, budget: { max_agreement_loss: maxLoss, excluded, arms }, notes };
}


/** The point and codec of an arm. */
export function armOf(arm: CutRef): { cut: string; codec: string } {
  return arm.point !== undefined ? { cut: arm.point, codec: arm.codec ?? DEFAULT_CODEC } : splitArm(arm.cut);
}

/** The same network with only the arms `keep` admits (cells and points alike). */
export function restrictArms(data: NetworkData, keep: (arm: CutRef) => boolean): NetworkData {
  const cuts = data.cuts.filter(keep);
  const labels = new Set(cuts.map((c) => c.cut));
  const conditions: ConditionData[] = data.conditions.map((c) => ({ ...c, cells: new Map([...c.cells].filter(([label]) => labels.has(label))) }));
  return { ...data, cuts, conditions };
}

export const isF32Arm = (arm: CutRef): boolean => armOf(arm).codec === DEFAULT_CODEC;

/**
 * The encoded answer with the f32 answer beside it: each condition gains `best_f32`, the network
 * its fidelity budget and the conditions where encoding changes the best point or the move decision.
 */
export function withF32Answer(encoded: NetworkReport, f32: NetworkReport | undefined, budget: FidelityBudget): NetworkReport {
  const byKey = new Map((f32?.conditions ?? []).map((c) => [c.key, c]));
  const changes: EncodingChange[] = [];
  const deployedPoint = splitArm(encoded.deployed.cut).cut;
  const conditions: ConditionReport[] = encoded.conditions.map((c) => {
    const raw = byKey.get(c.key);
    if (!raw) return { ...c, best_f32: null };
    const point = splitArm(c.best.cut).cut;
    // the f32 answer's move is a move of the point; the encoded answer may only change the codec where it stands
    const pointMoves = c.repartition && point !== deployedPoint;
    // A move one answer makes significantly and the other only by its gain (not significant) is no
    // change the encoding made: the answer over more arms corrects for more comparisons, so it
    // resolves less with the same samples. Only a move against no move by gain counts.
    const leans = { f32: raw.repartition || raw.move_not_significant, encoded: pointMoves || (c.move_not_significant && point !== deployedPoint) };
    const move = raw.repartition && !leans.encoded ? 'removed' : pointMoves && !leans.f32 ? 'created' : null;
    if (point !== raw.best.cut || move !== null) {
      changes.push({ condition: c.key, best: c.best.cut, best_f32: raw.best.cut, point_changed: point !== raw.best.cut, repartition: c.repartition, point_moves: pointMoves, repartition_f32: raw.repartition, move });
    }
    return { ...c, best_f32: { cut: raw.best.cut, total_ms: raw.best.total_ms, gain: raw.gain, repartition: raw.repartition } };
  });
  return { ...encoded, conditions, deployed_f32: f32?.deployed.cut ?? null, fidelity_budget: budget, encoding_changes: changes };
}

/** Indices of the Pareto front of (fewest x, highest y): no other point has fewer or equal x and higher or equal y, one of them strictly. */
export function paretoFront(points: readonly { x: number; y: number }[]): Set<number> {
  const order = points.map((_, i) => i).sort((a, b) => points[a]!.x - points[b]!.x || points[b]!.y - points[a]!.y);
  const out = new Set<number>();
  let best = -Infinity;
  for (const i of order) {
    if (points[i]!.y > best) {
      out.add(i);
      best = points[i]!.y;
    }
  }
  return out;
}
