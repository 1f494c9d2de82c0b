import type { ConditionData, CutRef, NetworkData } from '../../analysis/cells.js';
import { fitCostModel, type CostModel } from '../../analysis/cost-model.js';
import { judgeArms, restrictArms, type ArmBudget } from '../../analysis/encodings.js';
import { armLabel } from '../../analysis/arms.js';
import { cellStatsOf } from '../../analysis/histogram-stats.js';
import { loadResultFiles } from '../../analysis/load-results.js';
import { conditionKey, type Condition } from '../../conditions/condition.js';
import { UserError } from '../../errors.js';
import type { FidelityRecord } from '../../results/metadata.js';
import type { CellHistograms } from '../../results/log-lines.js';
import { armName, isF32, type Arm } from '../arms.js';
import type { CellSink } from '../sweep.js';

/**
 * The cost model an adaptive run's policies work with: fitted on --profile files, or on a profile
 * sweep it measured itself; over the run's arms (points, or (point, codec) pairs) within the
 * fidelity budget (--max-agreement-loss, judged as dnn-report judges them: src/analysis/encodings.ts).
 */

/** The statistic the policies' model is fitted at. */
const PROFILE_METRIC = 'p50';

/** What choosing the arms needs: the arms this run can send (label -> Arm), the budget, where to say what was left out. */
export interface ArmChoice {
  arms: ReadonlyMap<string, Arm>;
  maxLoss: number;
  log: (line: string) => void;
}

/**
 * Fits the model on results files of the network (--profile FILE...), over their arms that this run
 * can send (its --codec/--input-codec select among them: the others are left out, said in one line)
 * and that are within the budget by the files' fidelity records.
 */
export function profileFromFiles(files: string[], network: string, choice: ArmChoice): CostModel {
  const loaded = loadResultFiles(files);
  // the profile is one request at a time: a scenario run's latencies (frames in flight, queueing) are not its input
  const data = loaded.networks.find((n) => n.network === network && n.scenario === undefined);
  if (!data) throw new UserError(`--profile: no results of ${network} in ${files.join(', ')}${loaded.problems.length ? ` (${loaded.problems[0]})` : ''}`);
  const points = new Set([...choice.arms.values()].map((a) => a.cut.layer));
  const foreign = data.cuts.find((c) => !points.has(c.point ?? c.cut));
  if (foreign) throw new UserError(`--profile: ${network} in ${files.join(', ')} has point ${foreign.point ?? foreign.cut}, which this ${network} does not have: profile the same model (and --input-shape)`);
  const other = data.cuts.filter((c) => !choice.arms.has(c.cut)).map((c) => c.cut);
  if (other.length) choice.log(`--profile: left out ${other.length} arm(s) whose codec this run does not send (${other.join(', ')}): add the codec to --codec/--input-codec to use them`);
  const runnable = restrictArms(data, (c) => choice.arms.has(c.cut));
  if (runnable.cuts.length === 0) throw new UserError(`--profile: none of the arms in ${files.join(', ')} is sent with this run's --codec/--input-codec: give the codecs they were measured with`);
  const judged = judgeArms(runnable, choice.maxLoss);
  logExcluded(judged, choice.log);
  return fitted(restrictArms(runnable, (c) => judged.admitted.has(c.cut)));
}

/** The arms within the budget by their measured fidelity (the profile sweep then measures only these). */
export function armsWithinBudget(network: string, arms: readonly Arm[], fidelity: readonly FidelityRecord[], maxLoss: number, log: (line: string) => void): Arm[] {
  const judged = judgeArms({ network, cuts: armRefs(arms), conditions: [], sources: [], fidelity: [...fidelity] }, maxLoss);
  logExcluded(judged, log);
  return arms.filter((a) => judged.admitted.has(armName(a)));
}

function logExcluded(judged: ArmBudget, log: (line: string) => void): void {
  const { excluded, max_agreement_loss: max } = judged.budget;
  if (excluded.length === 0) return;
  const why = (e: (typeof excluded)[number]) => (e.top1_loss === null ? 'no fidelity recorded' : `${e.top1_loss.toFixed(1)} points lost`);
  log(`fidelity budget (--max-agreement-loss ${max}): the policies leave out ${excluded.map((e) => `${e.arm} (${why(e)})`).join(', ')}`);
}

/** The arms as the cost model names them: an f32 arm by its point (as results files without codecs), an encoded one POINT@CODEC. */
export function armRefs(arms: readonly Arm[]): CutRef[] {
  return arms.map((a) => {
    const ref = { cut: armName(a), index: a.cut.index, bytes: a.cut.bytes };
    return isF32(a.codec) ? ref : { ...ref, point: a.cut.layer, codec: a.codec.label };
  });
}

function fitted(data: NetworkData): CostModel {
  const model = fitCostModel(data, PROFILE_METRIC);
  if ('reason' in model) throw new UserError(`--profile: no cost model for ${data.network}: ${model.reason}`);
  return model;
}

/**
 * A sink for the profile sweep: each cell goes on to the results file, and its statistics are kept
 * as it arrives (the sweep frees a cell's histograms once written), so the model is fitted from
 * what this run holds rather than from the file read back.
 */
export class ProfileCells implements CellSink {
  private readonly conditions = new Map<string, ConditionData>();

  constructor(private readonly next: CellSink) {}

  async appendCell(condition: Condition, cut: string, histograms: CellHistograms, startMs: number, endMs: number, ref?: number, codec?: string): Promise<void> {
    // a reference re-measurement is drift data, never part of the cells (as when a results file is loaded)
    if (ref === undefined) this.keep(condition, armLabel(cut, codec), histograms, startMs, endMs);
    await this.next.appendCell(condition, cut, histograms, startMs, endMs, ref, codec);
  }

  private keep(condition: Condition, arm: string, histograms: CellHistograms, startMs: number, endMs: number): void {
    const key = conditionKey(condition);
    const c = this.conditions.get(key) ?? { condition, cells: new Map(), startMs, endMs };
    if (c.cells.has(arm)) throw new Error(`profile: cell ${key} ${arm} measured twice`);
    c.cells.set(arm, cellStatsOf(histograms));
    c.startMs = Math.min(c.startMs!, startMs);
    c.endMs = Math.max(c.endMs!, endMs);
    this.conditions.set(key, c);
  }

  /** The model fitted on the cells kept so far, for the measured arms of `network`. */
  model(network: string, arms: readonly Arm[]): CostModel {
    // by point, each point's arms in their order (as a results file is read)
    const measured = [...arms].sort((a, b) => a.cut.index - b.cut.index);
    return fitted({
      network,
      cuts: armRefs(measured),
      shapes: new Map(measured.map((a) => [a.cut.layer, a.cut.shape])),
      conditions: [...this.conditions.values()],
      sources: [],
    });
  }
}
