import type * as hdr from 'hdr-histogram-js';
import { conditionKey, type Condition } from '../conditions/condition.js';
import type { CutPoint } from '../model/partition.js';
import type { HostTensor, SplitRunner } from '../engine/split-runner.js';
import { cellKey, type Metric } from '../results/tags.js';
import { LinkFailure, type CloudLink } from './cloud-link.js';
import { measureOnce } from './measure.js';
import type { ProgressSink } from './progress.js';
import { CellRecorder, type Sample } from './samples.js';
import { conditionRandom, cycleOrders, runSteps } from './schedule.js';

/** Puts conditions in effect around the measurements (shaping, edge stress, cloud stress). */
export interface ConditionController {
  /** resolves once the condition is actually in effect */
  apply(c: Condition): Promise<void>;
  /** ends the stress of the current condition (shaping may stay until the next apply) */
  release(): Promise<void>;
}

/** Where finished cells go: the results file (one fsynced write per cell). */
export interface CellSink {
  /** ref: a re-measurement of the reference cell (drift control), tagged apart */
  appendCell(condition: Condition, cut: string, histograms: Record<Metric, hdr.Histogram>, startMs: number, endMs: number, ref?: number): Promise<void>;
}

export interface SweepPlan {
  /** in run order (schedule.orderConditions): the first is the baseline, whose best point is the reference */
  conditions: Condition[];
  cuts: CutPoint[];
  reps: number;
  warmup: number;
  /** cells (and references, with their ref number) already in the results file (--resume): skipped */
  done: ReadonlySet<string>;
  /** seed of the point order within each condition (recorded in the metadata) */
  seed: number;
  /** measure the reference cell again every this many conditions (0 = never) */
  referenceEvery: number;
  /** the reference point when already known (a resumed run whose baseline is measured); else the baseline's best as measured */
  referenceCut?: string;
}

export interface SweepDeps {
  runner: SplitRunner;
  link: CloudLink;
  input: HostTensor;
  sink: CellSink;
  controller: ConditionController;
  progress: ProgressSink;
}

export interface SweepStats {
  cells: number;
  samples: number;
  /** samples thrown away and redone after a failure of the link */
  retries: number;
  /** transfer times below zero recorded as zero */
  clamped: number;
  /** reference measurements taken (drift control) */
  references: number;
  /** the reference point ('' when none was measured) */
  referenceCut: string;
}

/**
 * The benchmark loop: for every condition, put it in effect, then measure its points not yet
 * measured, interleaved rep by rep in a shuffled order per cycle; the condition's cells go to the
 * sink once their samples are complete, so a killed run keeps every finished condition (a cell is
 * complete when its samples are). Between conditions, the reference cell is measured again.
 */
export async function runSweep(plan: SweepPlan, deps: SweepDeps): Promise<SweepStats> {
  const stats: SweepStats = { cells: 0, samples: 0, retries: 0, clamped: 0, references: 0, referenceCut: plan.referenceCut ?? '' };
  const total = plan.conditions.length * plan.cuts.length;
  const todo = (c: Condition) => plan.cuts.filter((cut) => !plan.done.has(cellKey(c, cut.layer)));
  deps.progress.start(total, total - plan.conditions.reduce((n, c) => n + todo(c).length, 0));
  const baseline = plan.conditions[0];

  for (const step of runSteps(plan.conditions, plan.referenceEvery)) {
    if (step.kind === 'reference') {
      await measureReference(step.ref, baseline!, plan, deps, stats);
      continue;
    }
    const { condition } = step;
    const cuts = todo(condition);
    if (cuts.length === 0) continue;
    const label = conditionKey(condition);
    await deps.controller.apply(condition);
    try {
      deps.progress.cellStarted(label, cuts.length > 1 ? `${cuts.length} points interleaved` : cuts[0]!.layer);
      const recs = await measureInterleaved(cuts, conditionRandom(plan.seed, condition), plan, deps, stats);
      try {
        for (const [i, cut] of cuts.entries()) {
          const rec = recs[i]!;
          await deps.sink.appendCell(condition, cut.layer, rec.histograms, rec.startMs, Date.now());
          stats.cells++;
          stats.samples += rec.count;
          stats.clamped += rec.clamped;
          deps.progress.cellDone(label, cut.layer, summarise(rec));
        }
        if (condition === baseline && !stats.referenceCut && cuts.length === plan.cuts.length) stats.referenceCut = fastest(cuts, recs);
      } finally {
        for (const r of recs) r.destroy();
      }
    } finally {
      await deps.controller.release();
    }
  }
  deps.progress.finish();
  return stats;
}

/** The point with the lowest median total: the deployed point a report would choose at the baseline. */
function fastest(cuts: CutPoint[], recs: CellRecorder[]): string {
  let best = 0;
  const p50 = (r: CellRecorder) => r.histograms.total.getValueAtPercentile(50);
  recs.forEach((r, i) => {
    if (p50(r) < p50(recs[best]!)) best = i;
  });
  return cuts[best]!.layer;
}

/** The reference cell once more (drift control): the baseline condition, the reference point alone. */
async function measureReference(ref: number, baseline: Condition, plan: SweepPlan, deps: SweepDeps, stats: SweepStats): Promise<void> {
  const cut = plan.cuts.find((c) => c.layer === stats.referenceCut);
  if (!cut || plan.done.has(cellKey(baseline, cut.layer, ref))) return;
  await deps.controller.apply(baseline);
  try {
    const [rec] = await measureInterleaved([cut], () => 0, plan, deps, stats);
    try {
      await deps.sink.appendCell(baseline, cut.layer, rec!.histograms, rec!.startMs, Date.now(), ref);
      stats.references++;
      deps.progress.note(`reference ${ref} (${cut.layer} at the baseline): ${summarise(rec!)}`);
    } finally {
      rec!.destroy();
    }
  } finally {
    await deps.controller.release();
  }
}

/** A sample failing this many times in a row is not a passing fault: the run stops. */
const MAX_CONSECUTIVE_FAILURES = 10;

/**
 * Warm-up runs of every point, then `reps` cycles through the points, each cycle in a fresh
 * shuffled order, one recorded sample per point per cycle; a sample the link failed is redone
 * after a reconnect.
 */
async function measureInterleaved(cuts: CutPoint[], random: () => number, plan: SweepPlan, deps: SweepDeps, stats: SweepStats): Promise<CellRecorder[]> {
  const recs = cuts.map(() => new CellRecorder());
  const index = new Map(cuts.map((c, i) => [c, i]));
  const cycles = [...cycleOrders(cuts, plan.warmup, random).map((order) => ({ order, record: false })), ...cycleOrders(cuts, plan.reps, random).map((order) => ({ order, record: true }))];
  try {
    for (const { order, record } of cycles) {
      for (const cut of order) {
        const sample = await sampleWithRetry(cut, deps, stats);
        if (record) recs[index.get(cut)!]!.record(sample);
      }
    }
    return recs;
  } catch (e) {
    for (const r of recs) r.destroy();
    throw e;
  }
}

async function sampleWithRetry(cut: CutPoint, deps: SweepDeps, stats: SweepStats): Promise<Sample> {
  let failures = 0;
  for (;;) {
    try {
      return await measureOnce(deps.runner, deps.link, cut, deps.input);
    } catch (e) {
      if (!(e instanceof LinkFailure) || ++failures > MAX_CONSECUTIVE_FAILURES) {
        if (e instanceof LinkFailure) throw new LinkFailure(`point ${cut.layer} failed ${MAX_CONSECUTIVE_FAILURES} times in a row, last: ${e.message}`, e.reason);
        throw e;
      }
      stats.retries++;
      deps.progress.note(`${cut.layer}: sample failed (${e.message}); reconnecting to redo it`);
      await deps.link.reconnect(); // throws GiveUp once the cloud stays away past --give-up
    }
  }
}

function summarise(rec: CellRecorder): string {
  const ms = (m: Metric) => (rec.histograms[m].getValueAtPercentile(50) / 1000).toFixed(1);
  return `total ${ms('total')} ms (edge ${ms('edge')}, transfer ${ms('transfer')}, cloud ${ms('cloud')}) p50 of ${rec.count}`;
}
