import { ESTIMATE } from './shard.js';
import type { PreparedPlan, RaceOptions } from './run-edge.js';
import { estimateRace, SEPARABLE } from './race/estimate.js';
import { DEFAULT_MIN_REPS, DEFAULT_RACE_PRIOR } from './race/race.js';
import { DEFAULT_CONFIDENCE } from '../analysis/build-report.js';
import { formatDuration } from './progress.js';
import type { ShardSpec } from './shard.js';
import { isPipelined, scenarioLabel, type Scenario } from './stream/scenario.js';

/** --race's defaults (src/cli/edge-options.ts), for a dry run that does not race: what racing would save. */
const DEFAULT_RACE: RaceOptions = { minReps: DEFAULT_MIN_REPS, prior: DEFAULT_RACE_PRIOR };

/**
 * A scenario run's time: stream/server offer (warm-up + reps) frames per cell at their rate, so a
 * cell lasts frames / rate (a pipeline that keeps up; one that does not drops or queues, and the
 * queue drains after); max is bounded by the single-request estimate (frames overlap, never slower).
 */
function scenarioLine(p: PreparedPlan, scenario: Scenario): string | undefined {
  if (!isPipelined(scenario)) return undefined;
  const { plan } = p.sharded;
  const cells = plan.conditions.length * p.arms.length;
  const frames = plan.reps + plan.warmup;
  const label = scenarioLabel(scenario);
  if (scenario.kind === 'max') return `scenario ${label}: ${cells} cells of ${frames} frames (${plan.warmup} warm-up) as fast as the pipeline takes them: at most the estimate above (single requests), less as stages overlap`;
  const rate = scenario.kind === 'stream' ? scenario.fps : scenario.rate;
  const settle = plan.conditions.length * ESTIMATE.settleMs;
  const s = (cells * frames) / rate + settle / 1000;
  return `scenario ${label}: ${cells} cells of ${frames} frames (${plan.warmup} warm-up) at ${rate}/s = ${formatDuration(frames / rate)} a cell, ~${formatDuration(s)} in all with ${ESTIMATE.settleMs / 1000} s to settle each condition (the shard estimates above are for single requests)`;
}

/**
 * The two estimates of a single-request sweep, exhaustive and raced (with this run's --race
 * settings, or the defaults when it does not race): inferences and time, from the nominal model.
 */
function raceLines(p: PreparedPlan, race: RaceOptions, edges: number): string[] {
  const { plan } = p.sharded;
  if (edges > 1) {
    const e = estimateRace(p.conditions, p.points, { minReps: 1, reps: plan.reps, confidence: DEFAULT_CONFIDENCE, prior: null }, plan.warmup);
    return [
      `inferences: exhaustive ${(e.samples + e.warmups).toLocaleString('en')} per edge (${e.samples.toLocaleString('en')} recorded + ${e.warmups.toLocaleString('en')} warm-up), ${(edges * (e.samples + e.warmups)).toLocaleString('en')} for the ${edges} edges; ` +
        `no raced estimate: --race cannot be combined with --edges ${edges} (every edge would race on its own samples)`,
    ];
  }
  const settings = { minReps: Math.min(race.minReps, plan.reps), reps: plan.reps, confidence: DEFAULT_CONFIDENCE, prior: race.prior };
  if (plan.reps < 2) return [`racing: needs --reps 2 or more (this plan has ${plan.reps})`];
  const e = estimateRace(p.conditions, p.points, settings, plan.warmup);
  const all = e.samples + e.warmups;
  const raced = e.racedSamples + e.racedWarmups;
  const flags = `--race --min-reps ${settings.minReps} --race-prior ${race.prior ?? 'off'}`;
  return [
    `inferences: exhaustive ${all.toLocaleString('en')} (${e.samples.toLocaleString('en')} recorded + ${e.warmups.toLocaleString('en')} warm-up), ~${formatDuration(e.ms / 1000)}; ` +
      `raced (${flags}) ~${raced.toLocaleString('en')} (${e.racedSamples.toLocaleString('en')} + ${e.racedWarmups.toLocaleString('en')}; ${(100 * (1 - raced / all)).toFixed(0)} % fewer, ${(all / raced).toFixed(1)}x), ~${formatDuration(e.racedMs / 1000)}`,
    `  the raced figure is an estimate from the nominal model above, nothing measured: points nominally above ${SEPARABLE}x the best are assumed to separate completely ` +
      `and leave at the first look where that is significant; warm-ups only in the first condition (every point is warm after it); ${race.prior === null ? 'no prior' : `the prior covers ${e.withPrior} of ${plan.conditions.length} conditions (the first by the pilot, its warm-ups; the others whose stress levels, or whose link, were measured before) and its probes are assumed to agree (1 sample)`}; the gap rule, which reads the run's measured noise, is left out (it drops far points sooner); ` +
      'a wrong prediction costs samples, not the answer (docs/method.md, racing)',
  ];
}

/** The race estimate of one shard: cells [from, to) in sweep order (condition-major, the plan's points in each). */
function shardRace(p: PreparedPlan, from: number, to: number, race: RaceOptions) {
  const { plan } = p.sharded;
  const per = plan.cuts.length;
  const first = Math.floor(from / per);
  const last = Math.floor((to - 1) / per);
  const settings = { minReps: Math.min(race.minReps, plan.reps), reps: plan.reps, confidence: DEFAULT_CONFIDENCE, prior: race.prior };
  return estimateRace(p.conditions.slice(first, last + 1), p.points, settings, plan.warmup, (ci) => {
    const at = first + ci;
    const lo = at === first ? from % per : 0;
    const hi = at === last ? (to - 1) % per : per - 1;
    return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  });
}

/** What --dry-run prints: the plan, its shards and the estimated time of each, exhaustive and raced. Nothing is measured. */
export function formatDryRun(p: PreparedPlan, shard: ShardSpec | undefined, scenario?: Scenario, race: RaceOptions = DEFAULT_RACE, edges = 1): string {
  const { plan, partition } = p.sharded;
  const cells = plan.conditions.length * plan.cuts.length;
  // with codecs a point's cell holds its arms (point, codec): each is a results cell of its own
  const arms = p.arms.length > plan.cuts.length ? ` (${p.arms.length} arms (point, codec): ${plan.conditions.length * p.arms.length} results cells)` : '';
  const lines = [
    `plan ${plan.hash}: ${plan.network}, ${plan.conditions.length} conditions x ${plan.cuts.length} points = ${cells} cells${arms}, ${plan.reps} samples + ${plan.warmup} warm-up each`,
    `estimated at a nominal ${ESTIMATE.macsPerSecond / 1e9} GMAC/s per end and ${ESTIMATE.settleMs / 1000} s to settle each condition: use the times to compare shards, not as a promise`,
  ];
  const n = partition.bounds.length - 1;
  // a raced shard's estimate, where racing applies (single requests on one edge): each shard races its own cells
  const racedShards = n > 1 && !(scenario && isPipelined(scenario)) && edges === 1 && plan.reps >= 2;
  for (let k = 1; k <= n; k++) {
    const from = partition.bounds[k - 1]!;
    const to = partition.bounds[k]!;
    const mark = shard?.index === k ? '  <- this run' : '';
    const raced = racedShards ? `; raced ~${formatDuration(shardRace(p, from, to, race).racedMs / 1000)}` : '';
    lines.push(
      `  shard ${k}/${n}: cells ${from + 1}-${to} (${to - from}), ${partition.conditionChanges[k - 1]} condition${partition.conditionChanges[k - 1] === 1 ? '' : 's'}, ~${formatDuration(partition.predictedMs[k - 1]! / 1000)}${raced}${mark}`,
    );
  }
  const total = partition.predictedMs.reduce((a, b) => a + b, 0);
  lines.push(`total ~${formatDuration(total / 1000)}${n > 1 ? `, longest shard ~${formatDuration(Math.max(...partition.predictedMs) / 1000)}` : ''}`);
  const load = scenario && scenarioLine(p, scenario);
  if (load) lines.push(load);
  else lines.push(...raceLines(p, race, edges));
  return `${lines.join('\n')}\n`;
}
