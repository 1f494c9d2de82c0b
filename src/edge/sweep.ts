import type * as tf from '@tensorflow/tfjs';
import type * as hdr from 'hdr-histogram-js';
import { conditionKey, type Condition } from '../conditions/condition.js';
import type { CutPoint } from '../model/partition.js';
import type { SplitRunner } from '../engine/split-runner.js';
import { cellKey, type Metric } from '../results/tags.js';
import { LinkFailure, type CloudLink } from './cloud-link.js';
import { measureOnce } from './measure.js';
import type { ProgressSink } from './progress.js';
import { CellRecorder } from './samples.js';

/** Puts conditions in effect around the measurements (shaping, edge stress, cloud stress). */
export interface ConditionController {
  /** resolves once the condition is actually in effect */
  apply(c: Condition): Promise<void>;
  /** ends the stress of the current condition (shaping may stay until the next apply) */
  release(): Promise<void>;
}

/** Where finished cells go: the results file (one fsynced write per cell). */
export interface CellSink {
  appendCell(condition: Condition, cut: string, histograms: Record<Metric, hdr.Histogram>, startMs: number, endMs: number): Promise<void>;
}

export interface SweepPlan {
  conditions: Condition[];
  cuts: CutPoint[];
  reps: number;
  warmup: number;
  /** cells already in the results file (--resume): skipped */
  done: ReadonlySet<string>;
  /** this shard's cells (--shard): the others belong to other runs; undefined = every cell */
  owned?: ReadonlySet<string>;
}

export interface SweepDeps {
  runner: SplitRunner;
  link: CloudLink;
  input: tf.Tensor;
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
}

/**
 * The benchmark loop: for every condition, put it in effect, then measure every point not yet
 * measured under it; each finished cell goes to the sink at once, so a killed run keeps it.
 */
export async function runSweep(plan: SweepPlan, deps: SweepDeps): Promise<SweepStats> {
  const stats: SweepStats = { cells: 0, samples: 0, retries: 0, clamped: 0 };
  const mine = (c: Condition) => (plan.owned ? plan.cuts.filter((cut) => plan.owned!.has(cellKey(c, cut.layer))) : plan.cuts);
  const todo = (c: Condition) => mine(c).filter((cut) => !plan.done.has(cellKey(c, cut.layer)));
  const total = plan.conditions.reduce((n, c) => n + mine(c).length, 0);
  deps.progress.start(total, total - plan.conditions.reduce((n, c) => n + todo(c).length, 0));

  for (const condition of plan.conditions) {
    const cuts = todo(condition);
    if (cuts.length === 0) continue;
    const label = conditionKey(condition);
    await deps.controller.apply(condition);
    try {
      for (const cut of cuts) {
        deps.progress.cellStarted(label, cut.layer);
        const rec = await measureCell(cut, plan, deps, stats);
        try {
          await deps.sink.appendCell(condition, cut.layer, rec.histograms, rec.startMs, Date.now());
          stats.cells++;
          stats.samples += rec.count;
          stats.clamped += rec.clamped;
          deps.progress.cellDone(label, cut.layer, summarise(rec));
        } finally {
          rec.destroy();
        }
      }
    } finally {
      await deps.controller.release();
    }
  }
  deps.progress.finish();
  return stats;
}

/** A sample failing this many times in a row is not a passing fault: the run stops. */
const MAX_CONSECUTIVE_FAILURES = 10;

/** Warm-up runs, then `reps` recorded samples; a sample the link failed is redone after a reconnect. */
async function measureCell(cut: CutPoint, plan: SweepPlan, deps: SweepDeps, stats: SweepStats): Promise<CellRecorder> {
  const rec = new CellRecorder();
  let i = -plan.warmup;
  let failures = 0;
  while (i < plan.reps) {
    try {
      const sample = await measureOnce(deps.runner, deps.link, cut, deps.input);
      if (i >= 0) rec.record(sample);
      i++;
      failures = 0;
    } catch (e) {
      if (!(e instanceof LinkFailure) || ++failures > MAX_CONSECUTIVE_FAILURES) {
        rec.destroy();
        if (e instanceof LinkFailure) throw new LinkFailure(`point ${cut.layer} failed ${MAX_CONSECUTIVE_FAILURES} times in a row, last: ${e.message}`, e.reason);
        throw e;
      }
      stats.retries++;
      deps.progress.note(`${cut.layer}: sample failed (${e.message}); reconnecting to redo it`);
      await deps.link.reconnect(); // throws GiveUp once the cloud stays away past --give-up
    }
  }
  return rec;
}

function summarise(rec: CellRecorder): string {
  const ms = (m: Metric) => (rec.histograms[m].getValueAtPercentile(50) / 1000).toFixed(1);
  return `total ${ms('total')} ms (edge ${ms('edge')}, transfer ${ms('transfer')}, cloud ${ms('cloud')}) p50 of ${rec.count}`;
}
