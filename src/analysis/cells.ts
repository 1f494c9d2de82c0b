import type { Condition } from '../conditions/factors.js';
import type { PolicyRun } from '../results/log-reader.js';
import type { StreamLine } from '../results/stream-lines.js';
import type { RacedLine } from '../results/raced-lines.js';
import type { AnyMetric } from '../results/tags.js';
import type { FidelityRecord } from '../results/metadata.js';
import type { Distribution } from './significance.js';
import type { Testbed } from './testbed.js';

/**
 * The measured cells every analysis works on, whatever their source (results files, the published
 * tool's outputs, or a profile sweep held in memory). What the analysis produces is in findings.ts.
 */

export const STATISTICS = ['p50', 'p95', 'mean'] as const;
export type Statistic = (typeof STATISTICS)[number];

/** One metric of one cell, in milliseconds (`bytes`: in bytes). */
export interface MetricStats {
  p50: number;
  p95: number;
  mean: number;
  samples: number;
  /** the whole distribution (results files); absent when only summary figures exist (--legacy) */
  dist?: Distribution;
}

export type CellStats = Partial<Record<AnyMetric, MetricStats>>;

/**
 * A measured arm: a partition point, or a (point, codec) pair for an encoded crossing (src/analysis/arms.ts).
 * Arms of one point share its index, so they order by point, then codec.
 */
export interface CutRef {
  /** label: layer name, or the published tool's integer ordinal; `POINT@CODEC` for an encoded arm */
  cut: string;
  /** position in the model (meta.cuts index, or the ordinal) */
  index: number;
  /** float32 bytes of the crossing tensor (from the results' metadata; unknown for the published tool's data) */
  bytes?: number;
  /** encoded arms only: the point's own label and the codec */
  point?: string;
  codec?: string;
  /** three-tier data only: the configuration (x, y) this arm is (its label is `x|y`, configLabel) */
  tier?: TierRef;
}

/**
 * A three-tier configuration as the analysis sees it: the device computes up to x, the edge after x up
 * to y, the cloud after y (src/model/tier-configs.ts). `kind`: 'three' when all three tiers compute
 * (input < x < y < output by index), else 'two' (one tier unused) or 'one' (only one tier computes).
 */
export interface TierRef {
  x: string;
  y: string;
  xIndex: number;
  yIndex: number;
  kind: 'three' | 'two' | 'one';
}

/** A partition point of a three-tier network: its name, index and float32 bytes, in model order. */
export interface TierPoint {
  cut: string;
  index: number;
  /** float32 bytes of its tensor (batch 1); unknown without metadata */
  bytes?: number;
}

export interface ConditionData {
  condition: Condition;
  /** arm label (armLabel: the cut, or CUT@CODEC) -> its stats (a scenario run of several edges: the edges' histograms pooled) */
  cells: Map<string, CellStats>;
  /** scenario runs only (frames in flight): arm label -> its counts and frames, per edge */
  streams?: Map<string, StreamCell>;
  /**
   * raced runs only (dnn-edge --race): arm label -> the `#dnn-raced` line of a point the race stopped
   * sampling early here; its stats hold the samples it has (`samples`), never --reps
   */
  raced?: Map<string, RacedLine>;
  /** when its cells were measured (ms since the epoch); absent when not recorded (--legacy) */
  startMs?: number;
  endMs?: number;
}

/**
 * One edge's share of a scenario cell (`--scenario stream:FPS | server:RATE | max`): the counts of its
 * `#dnn-stream` lines (summed over the files that measured it), its own statistics and its frames.
 */
export interface EdgeStream extends StreamCounts {
  /** which edge (0 with one edge) */
  edge: number;
  /** this edge's own histograms (with one edge: the cell's) */
  stats: CellStats;
  /** per measurement (a cell's `#dnn-frame` lines in one file): its completed frames' reply times, ms since its first arrival, ascending */
  completions: number[][];
}

/** The counts of a `#dnn-stream` line (summed over measurements: elapsed_ms added, in_flight the largest). */
export type StreamCounts = Pick<StreamLine, 'offered' | 'completed' | 'dropped' | 'refused' | 'elapsed_ms' | 'in_flight'>;

/** A scenario cell: every edge that measured it, by edge number. */
export interface StreamCell {
  edges: EdgeStream[];
}

/** A re-measurement of the reference cell (drift control): the baseline condition's reference point alone. */
export interface ReferenceData {
  ref: number;
  condition: Condition;
  cut: string;
  startMs: number;
  endMs: number;
  total: MetricStats;
  /** the file it came from (refs are numbered per run) */
  source: string;
}

export interface NetworkData {
  network: string;
  /** the load scenario of every cell (`stream:15`, `server:20`, `max`); absent for `single` (one request at a time) */
  scenario?: string;
  /** scenario runs of several edges on one cloud (lab --edges N): N; absent with one edge */
  edgeCount?: number;
  /** every point, in model order */
  cuts: CutRef[];
  conditions: ConditionData[];
  /** files or folders the data came from */
  sources: string[];
  /** cut label -> shape of its crossing tensor, batch excluded (the results' metadata): what its INFER frame carries */
  shapes?: ReadonlyMap<string, readonly number[]>;
  /** bytes of the model's output tensor (what the cloud sends back), when the metadata says */
  outputBytes?: number;
  /** adaptive runs (dnn-edge --trace) of this network */
  policyRuns?: PolicyRun[];
  /** a three-tier trace replay (--tiers 3 --trace): the configurations (x, y) its static policies could be */
  policyArms?: number;
  /** the `#dnn-stream` lines of adaptive runs replayed under a camera (cell `policy=P;trace=T`) */
  policyStreams?: StreamLine[];
  /** where it was measured (run metadata); null when unknown (--legacy, files without metadata) */
  testbed?: Testbed | null;
  testbedId?: string | null;
  /** reference re-measurements, in time order */
  references?: ReferenceData[];
  /** measured fidelity per (point, codec) pair, from the files' metadata (absent: none recorded) */
  fidelity?: FidelityRecord[];
  /** raced runs (a file with `#dnn-raced` lines or racing metadata): what racing saved, summed over the files */
  race?: RaceRun;
  /**
   * three-tier runs only (tags with `cut2=`): every partition point of the model in order (the first
   * is the input point, the last the output point); `cuts` are then the configurations (x, y)
   */
  tiers?: { points: TierPoint[] };
}

/** What racing saved, from the files: samples are recorded inferences (warm-ups left out). */
export interface RaceRun {
  /** cells measured (reference re-measurements left out) */
  cells: number;
  /** of those, stopped early (a `#dnn-raced` line) */
  raced: number;
  /** sum over raced cells of (--reps - the samples they hold) */
  saved: number;
  /** cells x --reps: what an exhaustive sweep of the same cells records */
  exhaustive: number;
}
