import type * as hdr from 'hdr-histogram-js';
import type { ConditionData, NetworkData } from '../../analysis/cells.js';
import { fitCostModel, type CostModel } from '../../analysis/cost-model.js';
import { cellStatsOf } from '../../analysis/histogram-stats.js';
import { loadResultFiles } from '../../analysis/load-results.js';
import { conditionKey, type Condition } from '../../conditions/condition.js';
import { UserError } from '../../errors.js';
import type { CutPoint } from '../../model/partition.js';
import type { Metric } from '../../results/tags.js';
import type { CellSink } from '../sweep.js';

/** The cost model an adaptive run's policies work with: fitted on --profile files, or on a profile sweep it measured itself. */

/** The statistic the policies' model is fitted at. */
const PROFILE_METRIC = 'p50';

/** Fits the model on results files of the network (--profile FILE...). */
export function profileFromFiles(files: string[], network: string): CostModel {
  const loaded = loadResultFiles(files);
  const data = loaded.networks.find((n) => n.network === network);
  if (!data) throw new UserError(`--profile: no results of ${network} in ${files.join(', ')}${loaded.problems.length ? ` (${loaded.problems[0]})` : ''}`);
  return fitted(data);
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

  async appendCell(condition: Condition, cut: string, histograms: Record<Metric, hdr.Histogram>, startMs: number, endMs: number, ref?: number): Promise<void> {
    // a reference re-measurement is drift data, never part of the cells (as when a results file is loaded)
    if (ref === undefined) this.keep(condition, cut, histograms, startMs, endMs);
    await this.next.appendCell(condition, cut, histograms, startMs, endMs, ref);
  }

  private keep(condition: Condition, cut: string, histograms: Record<Metric, hdr.Histogram>, startMs: number, endMs: number): void {
    const key = conditionKey(condition);
    const c = this.conditions.get(key) ?? { condition, cells: new Map(), startMs, endMs };
    if (c.cells.has(cut)) throw new Error(`profile: cell ${key} ${cut} measured twice`);
    c.cells.set(cut, cellStatsOf(histograms));
    c.startMs = Math.min(c.startMs!, startMs);
    c.endMs = Math.max(c.endMs!, endMs);
    this.conditions.set(key, c);
  }

  /** The model fitted on the cells kept so far, for the measured points of `network`. */
  model(network: string, cuts: readonly CutPoint[]): CostModel {
    const measured = [...cuts].sort((a, b) => a.index - b.index);
    return fitted({
      network,
      cuts: measured.map((c) => ({ cut: c.layer, index: c.index, bytes: c.bytes })),
      shapes: new Map(measured.map((c) => [c.layer, c.shape])),
      conditions: [...this.conditions.values()],
      sources: [],
    });
  }
}
