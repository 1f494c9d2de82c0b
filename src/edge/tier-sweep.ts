import type { Histogram } from 'hdr-histogram-js';
import { conditionKey, type Condition } from '../conditions/condition.js';
import type { SplitRunner } from '../engine/split-runner.js';
import { configLabel, type TierConfig } from '../model/tier-configs.js';
import { newLatencyHistogram, type CellHistograms } from '../results/log-lines.js';
import { THREE_TIER_METRICS, cellKey } from '../results/tags.js';
import type { CloudLink } from './cloud-link.js';
import type { SampleInput } from './measure.js';
import { measureTiers, type TierSample } from './measure-tiers.js';
import type { ProgressSink } from './progress.js';
import { conditionRandom } from './schedule.js';
import { measureCycles, redoOnLinkFailure, type ConditionController } from './sweep.js';

/**
 * The three-tier sweep (--tiers 3): for every condition, put it in effect, then measure its
 * configurations (x, y) not yet measured, interleaved rep by rep in a shuffled order per cycle
 * (seeded by the run and the condition, as the two-tier sweep does), after `warmup` unrecorded
 * cycles; each (condition, configuration) is a cell of 6 histograms written once complete.
 * No reference cells yet: drift shows in the repeated pure configurations of each condition.
 */

/** Where finished three-tier cells go (ResultsWriter.appendTierCell). */
export interface TierCellSink {
  appendTierCell(condition: Condition, x: string, y: string, histograms: CellHistograms, startMs: number, endMs: number): Promise<void>;
}

export interface TierSweepPlan {
  /** in run order */
  conditions: Condition[];
  configs: TierConfig[];
  reps: number;
  warmup: number;
  /** cellKey (with cut2) of the cells already in the results file (--resume): skipped */
  done: ReadonlySet<string>;
  seed: number;
}

export interface TierSweepDeps {
  runner: SplitRunner;
  /** the connection to the edge tier (dnn-relay) */
  link: CloudLink;
  inputs: readonly SampleInput[];
  sink: TierCellSink;
  controller: ConditionController;
  progress: ProgressSink;
  /** one sample; measureTiers by default (a test may count calls around it) */
  measure?: typeof measureTiers;
}

export interface TierSweepStats {
  cells: number;
  samples: number;
  retries: number;
  /** device_transfer or transfer below zero (clock granularity) recorded as 0 */
  clamped: number;
}

/** The key of a configuration's cell in a condition (as the writer's resume lists it). */
export function tierCellKey(c: Condition, config: TierConfig): string {
  return cellKey(c, config.x.layer, undefined, undefined, undefined, undefined, config.y.layer);
}

/** The 6 histograms of one (condition, configuration) cell. */
class TierRecorder {
  readonly histograms = Object.fromEntries(THREE_TIER_METRICS.map((m) => [m, newLatencyHistogram()])) as CellHistograms & Record<(typeof THREE_TIER_METRICS)[number], Histogram>;
  readonly startMs = Date.now();
  count = 0;
  clamped = 0;

  record(s: TierSample): void {
    for (const m of THREE_TIER_METRICS) {
      const v = Math.round(s[m]);
      if (v < 0) this.clamped++;
      this.histograms[m].recordValue(Math.max(0, v));
    }
    this.count++;
  }

  p50(m: (typeof THREE_TIER_METRICS)[number]): number {
    return this.histograms[m].getValueAtPercentile(50) / 1000;
  }

  destroy(): void {
    for (const h of Object.values(this.histograms)) h.destroy();
  }
}

export async function runTierSweep(plan: TierSweepPlan, deps: TierSweepDeps): Promise<TierSweepStats> {
  if (deps.inputs.length === 0) throw new Error('bug: a sweep needs at least one input');
  const stats: TierSweepStats = { cells: 0, samples: 0, retries: 0, clamped: 0 };
  const todo = (c: Condition) => plan.configs.filter((k) => !plan.done.has(tierCellKey(c, k)));
  const total = plan.conditions.length * plan.configs.length;
  deps.progress.start(total, total - plan.conditions.reduce((n, c) => n + todo(c).length, 0));
  let next = 0;
  const measure = deps.measure ?? measureTiers;
  const sample = (config: TierConfig): Promise<TierSample> => {
    const input = deps.inputs[next++ % deps.inputs.length]!;
    return redoOnLinkFailure(`configuration ${configLabel(config)}`, deps, () => stats.retries++, () => measure(deps.runner, deps.link, config, input));
  };

  for (const condition of plan.conditions) {
    const left = todo(condition);
    if (left.length === 0) continue;
    const label = conditionKey(condition);
    await deps.controller.apply(condition);
    try {
      deps.progress.cellStarted(label, left.length > 1 ? `${left.length} configurations interleaved` : configLabel(left[0]!));
      const recs = await measureCycles(left, plan, conditionRandom(plan.seed, condition), () => new TierRecorder(), sample);
      try {
        for (const [i, config] of left.entries()) {
          const rec = recs[i]!;
          await deps.sink.appendTierCell(condition, config.x.layer, config.y.layer, rec.histograms, rec.startMs, Date.now());
          stats.cells++;
          stats.samples += rec.count;
          stats.clamped += rec.clamped;
          deps.progress.cellDone(label, configLabel(config), summarise(rec));
        }
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

function summarise(r: TierRecorder): string {
  const ms = (m: (typeof THREE_TIER_METRICS)[number]) => r.p50(m).toFixed(1);
  return `total ${ms('total')} ms (device ${ms('device')}, device link ${ms('device_transfer')}, edge ${ms('edge')}, edge-cloud link ${ms('transfer')}, cloud ${ms('cloud')}) p50 of ${r.count}`;
}
