import type { FactorName, Factors } from '../conditions/factors.js';
import type { RateThresholds } from './cost-model.js';
import type { AdaptiveEntry } from './policy-runs.js';
import type { Statistic } from './cells.js';
import type { PowerStatement } from './power.js';
import type { Testbed } from './testbed.js';
import type { RaceRule } from '../results/raced-lines.js';

/**
 * What the analysis finds: the report (its JSON form is documented in docs/dnn-report.md and kept stable).
 * The measured data it starts from is in cells.ts.
 */

/** Condition factors under their JSON names (src/conditions/factors.ts); net_mbit null = not shaped (the fastest). */
export type { Factors, FactorName };

export interface PointRow {
  /** the partition point; of a three-tier configuration (x, y): x */
  cut: string;
  /** three-tier data only: y, the second cut (the edge computes after x up to y, the cloud after y) */
  cut2?: string;
  index: number;
  /** three-tier data only: which tiers compute ("device+edge+cloud", "device+cloud", ...) */
  uses?: string;
  /** three-tier data only: device compute up to x, and the device<->edge link (round trip minus the edge's own time), at the statistic */
  device_ms?: number | null;
  device_transfer_ms?: number | null;
  /** each metric at the chosen statistic; null when that metric is missing */
  edge_ms: number | null;
  transfer_ms: number | null;
  cloud_ms: number | null;
  total_ms: number;
  total_p95_ms: number;
  /** samples the cell holds (its histogram's count: a raced-out point's are fewer than --reps) */
  samples: number;
  /** raced runs only: the race stopped sampling this point early here (absent for points that ran all --reps) */
  raced?: RacedPoint;
  /** how much slower than the condition's best point (typical ratio - 1) with its interval; null when unknown */
  vs_best: PointVsBest | null;
  /** data with codecs only (absent otherwise): the arm's wire codec */
  codec?: string;
  /** mean INFER frame bytes on the wire per request (a count, not a time); null when not recorded */
  bytes?: number | null;
  /** edge encode and cloud decode time at the chosen statistic, ms; null when not recorded */
  encode_ms?: number | null;
  decode_ms?: number | null;
  /** false for an arm outside the fidelity budget: measured and shown, never chosen */
  within_budget?: boolean;
  // scenario runs only (frames in flight: docs/dnn-report.md "Streams"); several edges: all edges together
  /** the load scenario: `stream:15`, `server:20`, `max` */
  scenario?: string;
  /** frames/s: completed * 1000 / elapsed (several edges: the sum), with its interval (batch means of the frames' completion times; null: too few frames) */
  fps?: number;
  fps_low?: number | null;
  fps_high?: number | null;
  /** in the tie set of the best frames/s (null: unknown) */
  fps_tie?: boolean | null;
  /** dropped / offered frames */
  drop_fraction?: number;
  /** frames offered, completed and dropped (of which refused by a full cloud queue) */
  frames?: { offered: number; completed: number; dropped: number; refused: number };
  /** percentiles of total (arrival -> result) over the completed frames, pooled over the edges */
  p90_ms?: number;
  p99_ms?: number;
  /** p50 of the queueing before the edge's compute and in the cloud's queue; null when not recorded */
  queue_ms?: { edge: number | null; cloud: number | null };
  /** frames/s the pipeline model gives from the single run's stage times (null: no single run to take them from) */
  predicted_fps?: number | null;
}

/** A point a raced sweep dropped early in a condition: its `#dnn-raced` line, as the report gives it. */
export interface RacedPoint {
  /** samples it was dropped after (the line's; the row's `samples` is what the histograms hold) */
  samples: number;
  /** significance: significantly slower than `best`; gap: even its fastest sample was further above `best` than the run's noise allows; prior: the cost model predicted it far slower and its first sample(s) agreed */
  rule: RaceRule;
  /** the arm that was fastest when it was dropped */
  best: string;
  /** estimated (this / best - 1) when dropped, with the interval the rule used (significance) or the predicted ratio (prior) */
  slower: number;
  low?: number;
  high?: number;
  /** gap rule: the factor its fastest sample exceeded over the slowest of `best` */
  gap?: number;
  predicted?: number;
  reason: string;
}

/** What racing saved in a network's files (`raced: N of M cells stopped early`). */
export interface RaceSummary {
  cells: number;
  raced_cells: number;
  /** recorded inferences saved: sum over raced cells of (--reps - samples held) */
  inferences_saved: number;
  /** cells x --reps: what an exhaustive sweep of the same cells records */
  inferences_exhaustive: number;
  /** raced-out points the report's own test cannot tell from their condition's best (in its tie set): their few samples cannot exclude them at the report's correction */
  raced_in_tie_set: number;
}

/** A point against the best one of its condition: gain interval (null ends = unbounded) and tie-set membership. */
export interface PointVsBest {
  gain: number;
  low: number | null;
  high: number | null;
  /** not significantly slower than the best */
  tie: boolean;
}

/** Whether a condition's verdict rests on a significance test: no spread recorded (--legacy) = unknown. */
export type Significance = 'significant' | 'not significant' | 'unknown';

export interface PointRef {
  cut: string;
  /** three-tier data only: y of the configuration (x, y) (`cut` is x) */
  cut2?: string;
  total_ms: number;
}

export interface ConditionReport {
  key: string;
  /** set on conditions the cost model predicted (dnn-report --predict), never measured */
  predicted?: true;
  factors: Factors;
  best: PointRef;
  /** total of the deployed point here; null when it was not measured in this condition */
  deployed_ms: number | null;
  /** total(deployed) / total(best) - 1; null when the deployed point was not measured */
  gain: number | null;
  /** interval of the deployed point's loss against the best (rank test, corrected for the N-1 comparisons); null ends = unbounded or unknown */
  gain_low: number | null;
  gain_high: number | null;
  /** is the best point significantly faster than the deployed one? */
  significance: Significance;
  /** the points not significantly slower than the best (null when unknown) */
  tie_set: string[] | null;
  /** the best point differs, the gain reaches --min-gain and is significant (or significance is unknown) */
  repartition: boolean;
  /** the best point differs and the gain reaches --min-gain, but it is not significant: noise cannot be ruled out */
  move_not_significant: boolean;
  /** the first point (least on the edge) and the last (most on the edge) */
  cloud_only: PointRef | null;
  edge_only: PointRef | null;
  speedup_vs_cloud_only: number | null;
  speedup_vs_edge_only: number | null;
  cuts: PointRow[];
  /** data with encoded arms only: the f32 answer (best among f32 arms; its gain and move against the f32 deployed point); null when no f32 arm was measured here */
  best_f32?: F32Answer | null;
  /** scenario runs only: the arm with the most frames/s, and the arms not significantly below it (null: unknown) */
  best_fps?: FpsRef;
  fps_tie_set?: string[] | null;
  /** stream / server runs only: among the arms that keep up (drop at most 1 %), the lowest p99; null when none keeps up (or `max`) */
  best_p99?: { cut: string; p99_ms: number } | null;
  /** three-tier data only: the best configuration with its interval, and the best three-tier against the best two-tier one */
  tiers?: TierAnswer;
}

/** A configuration (x, y) of a three-tier run with its total at the statistic. */
export interface TierPick {
  cut: string;
  cut2: string;
  /** which tiers compute ("device+edge+cloud", ...) */
  uses: string;
  total_ms: number;
}

/** Per condition of a three-tier run: the best (x, y), and whether three tiers beat two. */
export interface TierAnswer {
  /** the best configuration; low_ms/high_ms: the distribution-free interval of its median total at --confidence (null: too few samples, or unknown) */
  best: TierPick & { low_ms: number | null; high_ms: number | null; samples: number };
  /** the fastest configuration in which all three tiers compute; null when none was measured */
  best_three_tier: TierPick | null;
  /** the fastest configuration with a tier unused (two tiers, or one); null when none was measured */
  best_two_tier: TierPick | null;
  /** the best three-tier configuration is faster than the best two-tier one; null when either is missing */
  three_tier_wins: boolean | null;
  /** best_two_tier / best_three_tier - 1 (positive: three tiers faster), with the interval of the rank test against the condition's best */
  gain: number | null;
  gain_low: number | null;
  gain_high: number | null;
  /** the winner (three or two tiers) is significantly faster: the loser is outside the tie set (same correction as the tie set) */
  significance: Significance;
}

/** One three-tier configuration of one condition: the additive prediction against the measured median total. */
export interface AdditivePrediction {
  condition: string;
  cut: string;
  cut2: string;
  measured_ms: number;
  predicted_ms: number;
  /** |predicted - measured| / measured */
  error: number;
  /** the prediction's parts (ms): D(x), the device link, E(x..y), the edge link, C(y) */
  parts: { device_ms: number; device_link_ms: number; edge_ms: number; edge_link_ms: number; cloud_ms: number };
}

/** How far the additive (Scission-style) prediction is from the end-to-end measurement (docs/method.md). */
export interface AdditiveCheck {
  /** median and largest relative error of the median total over the predicted (condition, configuration) pairs; null when none */
  median_error: number | null;
  max_error: number | null;
  /** (condition, three-tier configuration) pairs predicted and compared */
  configs: number;
  /** (condition, configuration) pairs with a tier unused that the predictions are calibrated on */
  calibration_configs: number;
  worst: AdditivePrediction | null;
  conditions: { key: string; median_error: number | null; max_error: number | null; configs: number }[];
  predictions: AdditivePrediction[];
}

/** A three-tier network's shape: its points and how many configurations of each kind were measured. */
export interface TierSummary {
  count: 3;
  /** every partition point in model order: the first is the input point, the last the output point */
  points: string[];
  /** configurations measured in any condition, and of those the three-tier ones */
  configs: number;
  three_tier_configs: number;
}

export interface FpsRef {
  cut: string;
  fps: number;
  fps_low: number | null;
  fps_high: number | null;
}

/** A scenario run: per edge, every cell's own figures (runs of several edges). */
export interface EdgeReport {
  edge: number;
  cells: EdgeCell[];
}

export interface EdgeCell {
  condition: string;
  cut: string;
  fps: number;
  fps_low: number | null;
  fps_high: number | null;
  drop_fraction: number;
  frames: { offered: number; completed: number; dropped: number; refused: number };
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
  queue_ms: { edge: number | null; cloud: number | null };
}

/** The answer for streams, per condition: the best arm for frames/s beside the best for one request at a time. */
export interface StreamAnswer {
  condition: string;
  /** the best arm of the single run (one request at a time) at this condition; null when no single run measured it */
  best_latency: PointRef | null;
  best_fps: FpsRef;
  /** arms whose frames/s is not significantly below the best (null: unknown) */
  fps_tie_set: string[] | null;
  /** stream / server runs: the best arm for p99 among those that keep up; null otherwise */
  best_p99: { cut: string; p99_ms: number } | null;
  /** the best arm for frames/s is not the best for latency (null: no single run) */
  differ: boolean | null;
  /** ... and the latency's best arm is significantly slower in frames/s (outside the fps tie set); null: unknown */
  differ_significant: boolean | null;
  /** the best arm for p99 at the rate is not the best for latency (null: either unknown) */
  differ_p99: boolean | null;
}

/** The pipeline model's frames/s against what a scenario run measured (src/analysis/stream-model.ts). */
export interface FpsModel {
  /** the scenario run's cap on frames in flight and its number of edges, as the model takes them */
  in_flight: number;
  edges: number;
  arms: FpsModelArm[];
  /** |predicted / measured - 1| over the arms: median and largest */
  median_error: number | null;
  max_error: number | null;
  /** conditions where the predicted best arm for frames/s is the measured one, of those compared */
  best_agreement: number | null;
  /** the shared cloud's queueing model against the measured cloud queueing (p50 of queue_cloud) */
  queue: QueueCheck[];
  /** per condition and number of edges on one cloud (1 to max(4, edges)): the arm with the most frames/s in all */
  by_edges: { condition: string; edges: number; best: string; fps_total: number; model: 'D/D/1' | 'M/D/1' | 'saturated' }[];
}

export interface FpsModelArm {
  condition: string;
  cut: string;
  /** mean stage times (edge + encode, transfer, decode + cloud) of the single run */
  stages_ms: { edge: number; transfer: number; cloud: number };
  /** 'measured': the single run's cell at this condition; 'cost model': predicted from the single run (the condition was not measured one at a time) */
  source: 'measured' | 'cost model';
  predicted_fps: number;
  bottleneck: 'edge' | 'transfer' | 'cloud' | 'in-flight';
  measured_fps: number;
  /** predicted / measured - 1 */
  error: number;
}

export interface QueueCheck {
  condition: string;
  cut: string;
  edges: number;
  rho: number;
  model: 'D/D/1' | 'M/D/1' | 'saturated';
  predicted_queue_cloud_ms: number;
  measured_queue_cloud_ms: number | null;
  predicted_fps_total: number;
  measured_fps_total: number;
}

export interface F32Answer {
  cut: string;
  total_ms: number;
  gain: number | null;
  repartition: boolean;
}

/** An arm the fidelity budget leaves out of the answer. */
export interface ExcludedArm {
  arm: string;
  cut: string;
  codec: string;
  reason: 'no fidelity recorded' | 'over the budget';
  /** percentage points of top-1 agreement lost against f32; null when not recorded */
  top1_loss: number | null;
}

export interface FidelityBudget {
  /** --max-agreement-loss: percentage points of top-1 agreement an arm may lose against f32 */
  max_agreement_loss: number;
  excluded: ExcludedArm[];
  /** every arm: its bytes per request and its fidelity (what the HTML's bytes vs fidelity charts draw) */
  arms: ArmFidelity[];
}

export interface ArmFidelity {
  arm: string;
  cut: string;
  codec: string;
  /** mean INFER frame bytes per request (measured; else the fidelity record's encoded bytes; f32: the tensor's); null when unknown */
  bytes: number | null;
  /** top-1 and top-5 agreement with the f32 model (fractions; f32 itself: 1); null when not recorded */
  top1_agreement: number | null;
  top5_agreement: number | null;
  within_budget: boolean;
}

/** A condition where the answer over encoded arms differs from the f32 one. */
export interface EncodingChange {
  condition: string;
  /** the best arm within the budget, and the best f32 point */
  best: string;
  best_f32: string;
  /** the best arm's point differs from the best f32 point */
  point_changed: boolean;
  /** the encoded answer repartitions (another arm: point or codec) */
  repartition: boolean;
  /** ... and its partition point moves (the best arm's point differs from the deployed arm's) */
  point_moves: boolean;
  /** the f32 answer repartitions (its point moves) */
  repartition_f32: boolean;
  /** 'removed': the f32 answer's point must move here, the encoded one's not; 'created': the reverse; null: same decision */
  move: 'removed' | 'created' | null;
}

export interface SensitivityLevel {
  value: number | null;
  conditions: number;
  deployed_ms: number | null;
  best_ms: number;
}

export interface SensitivityRow {
  factor: FactorName;
  /** levels from the most favourable to the least, with mean latencies over matched conditions */
  levels: SensitivityLevel[];
  /** condition pairs that differ only in this factor (the favourable level vs another) */
  pairs: number;
  /** deployed total at the other level / at the favourable level - 1: mean and largest over pairs */
  deployed_change_mean: number | null;
  deployed_change_max: number | null;
  /** pairs where the best point moved significantly (the favourable level's best is not in the other level's tie set) */
  best_moved: number;
  best_moved_frac: number;
  /** pairs where the best point differs, but not significantly */
  best_moved_not_significant: number;
  /** every pair where the best point differs, with the gain (at the other level) of its best over the favourable level's best */
  moves: SensitivityMove[];
  /** pairs where the factor changed the deployed point's latency significantly */
  deployed_change_significant: number;
  /** per pair: the deployed point's change from the favourable level, with its interval */
  effects: SensitivityEffect[];
}

export interface SensitivityEffect {
  from: string;
  to: string;
  change: number;
  low: number | null;
  high: number | null;
  significance: Significance;
}

export interface SensitivityMove {
  from: string;
  to: string;
  from_cut: string;
  to_cut: string;
  gain: number | null;
  low: number | null;
  high: number | null;
  significance: Significance;
  /** a raced run (`dnn-edge --race`): from_cut left the race under `to` after this many samples, which its interval rests on */
  from_raced_samples?: number;
}

export interface NetworkSummary {
  conditions: number;
  repartition: number;
  max_gain: number | null;
  max_gain_condition: string | null;
  max_gain_best_cut: string | null;
  /** conditions where the best point differs by >= min_gain but not significantly (shown apart) */
  repartition_not_significant: number;
  sensitivity: SensitivityRow[];
}

export interface NetworkReport {
  network: string;
  /** scenario runs only: the load scenario of every cell (`stream:15`, `server:20`, `max`); absent for single */
  scenario?: string;
  /** scenario runs only: the cap on frames in flight, and the number of edges that shared the cloud */
  in_flight?: number;
  edge_count?: number;
  /** scenario runs of several edges: each edge's own figures (the cells' figures are all edges together) */
  edges?: EdgeReport[];
  /** scenario runs: per condition, the best arm for frames/s beside the best for latency (single run) */
  stream_answers?: StreamAnswer[];
  /** scenario runs: percentiles that rest on fewer samples than MLPerf LoadGen's minimum (also in the report's warnings) */
  sample_warnings?: string[];
  /** scenario runs with a single run of the same network beside them: the pipeline model against the measurement */
  fps_model?: FpsModel | null;
  /** the testbed (each end's host, CPU, cores, backend, threads, limits; the model fingerprint); null when unknown */
  testbed: Testbed | null;
  /** short id of the testbed; one network appears once per testbed; 'unknown' when not recorded */
  testbed_id: string;
  sources: string[];
  /** the reference condition: the fastest network, no delay/jitter/loss, no stress */
  baseline: { key: string; exact: boolean };
  /** the deployed point (three-tier data: the configuration, x in `cut`, y in `cut2`) */
  deployed: { cut: string; cut2?: string; condition: string; reason: 'flag' | 'best-at-baseline' };
  conditions: ConditionReport[];
  summary: NetworkSummary;
  /** per measured stress level: the rate ranges in which each point is best (cost model; absent when it cannot be fitted) */
  rate_thresholds?: RateThresholds[];
  /** the fitted cost model's link parameters (see src/analysis/cost-model.ts) */
  cost_model?: { beta: number; gamma: number; beta_fitted: boolean; gamma_fitted: boolean };
  /** --predict: the conditions are predictions from this many measured conditions */
  predicted_from?: number;
  /** the reference cell measured again through the run; null when the run did not record it */
  drift: DriftReport | null;
  /** one line per stretch where the drift exceeds the gain claimed there (also in the report's warnings) */
  drift_warnings: string[];
  /** could the samples resolve min_gain? null when no spread was recorded */
  power: PowerStatement | null;
  /** one line on what the significance rests on */
  significance_note: string;
  /** raced runs only (dnn-edge --race): how many cells were stopped early and what it saved */
  race?: RaceSummary;
  /** data with encoded arms only: the deployed point of the f32 answer (null: no f32 arm measured) */
  deployed_f32?: string | null;
  /** data with encoded arms only: the arms the budget leaves out */
  fidelity_budget?: FidelityBudget;
  /** data with encoded arms only: conditions where the best point or the move decision differs from the f32 answer */
  encoding_changes?: EncodingChange[];
  /** three-tier runs only (dnn-edge --tiers 3): the points and configurations; tie sets and moves name configurations `x|y` */
  tiers?: TierSummary;
  /** three-tier runs only: the additive prediction against the measurement; absent with --predict */
  additive_check?: AdditiveCheck;
}

export interface Report {
  tool: 'dnn-report';
  metric: Statistic;
  min_gain: number;
  confidence: number;
  networks: NetworkReport[];
  /** adaptive runs: one entry per (network, trace); JSON leaves out the timelines */
  adaptive: AdaptiveEntry[];
  /** networks measured on more than one testbed: per condition, the best point on each */
  cross_testbed: CrossTestbedRow[];
  /** scenario runs of one network, scenario and testbed with different numbers of edges on one cloud: per condition, the best point for frames/s as edges are added */
  edge_scaling?: EdgeScalingRow[];
  warnings: string[];
}

export interface CrossTestbedRow {
  network: string;
  /** scenario runs: the scenario compared across testbeds (absent: single) */
  scenario?: string;
  condition: string;
  /** testbed_id -> the best point there and its total (null: condition not measured on that testbed) */
  best: Record<string, PointRef | null>;
  /** the same point is best (or tied with the best, where significance is known) on every testbed that measured it */
  same_best: boolean;
}

export interface DriftPoint {
  ref: number;
  source: string;
  /** ISO time of the measurement */
  at: string;
  total_ms: number;
  samples: number;
  /** against the first reference of its run */
  change: number;
}

/** Between two consecutive references of one run: how much the reference moved, and what was measured meanwhile. */
export interface DriftStretch {
  source: string;
  from_ref: number;
  to_ref: number;
  from: string;
  to: string;
  /** metric change of the reference cell over the stretch, with its interval (typical ratio) */
  change: number;
  low: number | null;
  high: number | null;
  /** conditions measured in the stretch */
  conditions: string[];
  /** the smallest gain claimed (repartition) among them; null when none */
  claimed_gain: number | null;
  /** |change| exceeds the claimed gain (or --min-gain when nothing is claimed) */
  exceeds: boolean;
}

export interface DriftReport {
  reference: { condition: string; cut: string };
  points: DriftPoint[];
  /** largest |change| against the first reference */
  max_change: number;
  stretches: DriftStretch[];
}

export interface EdgeScalingRow {
  network: string;
  testbed_id: string;
  scenario: string;
  condition: string;
  /** per number of edges measured (ascending): the best arm for frames/s, its frames/s (all edges), its tie set and its cloud queueing (p50) */
  runs: { edges: number; best: string; index: number; fps: number; fps_tie_set: string[] | null; queue_cloud_ms: number | null }[];
  /** the best arm's point never moves toward the cloud as edges are added, and moves toward the edge at least once; null: it does not move */
  toward_edge: boolean | null;
  /** every move is significant (the earlier best is outside the later run's frames/s tie set); null: no move, or a tie set unknown */
  significant: boolean | null;
}
